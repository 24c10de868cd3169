// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Export: the draft, the current settings and every candidate of the history, as Markdown, plain text
// or JSON (write them with writeFileAtomically).
#pragma once

#include <QByteArray>
#include <QString>

#include "guidance/GenerationSettings.h"

class HistoryModel;

enum class ExportFormat { Markdown, PlainText, Json };

// The file suffix of a format ("md", "txt", "json").
QString exportSuffix(ExportFormat format);

QByteArray exportDraft(ExportFormat format, const QString& draft, const GenerationSettings& settings,
                       const HistoryModel& history);
