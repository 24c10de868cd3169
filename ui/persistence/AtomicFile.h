// SPDX-License-Identifier: GPL-3.0-or-later
// Every file the app writes goes through QSaveFile: the old file stays whole until the new one is complete.
#pragma once

#include <QByteArray>
#include <QString>

// Writes bytes to path (creating its folder) atomically; on failure returns false and says why in *error.
bool writeFileAtomically(const QString& path, const QByteArray& bytes, QString* error);
