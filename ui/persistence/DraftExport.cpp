// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/DraftExport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "history/HistoryModel.h"

namespace {

// Markdown and plain text differ only in how headings, quotes and list items look.
struct TextStyle {
  QString (*heading)(int level, const QString& title);
  QString (*quote)(const QString& text);
  QString (*item)(int number, const QString& text);
};

QString exportAsText(const TextStyle& style, const QString& draft, const GenerationSettings& settings,
                     const QJsonArray& history) {
  QString out = style.heading(1, QObject::tr("Draft")) + draft + QStringLiteral("\n\n");
  out += style.heading(2, QObject::tr("Settings")) + settings.summary() + QStringLiteral("\n\n");
  out += style.heading(2, QObject::tr("History"));
  for (const QJsonValue& prefixValue : history) {
    const QJsonObject prefix = prefixValue.toObject();
    out += style.heading(3, QObject::tr("Prefix")) + style.quote(prefix["prefix"].toString()) + QStringLiteral("\n");
    int runNumber = 0;
    for (const QJsonValue& runValue : prefix["runs"].toArray()) {
      const QJsonObject run = runValue.toObject();
      const GenerationSettings runSettings = GenerationSettings::fromJson(run["settings"].toObject());
      const QString note = run["note"].toString();
      out += style.heading(4, QObject::tr("Run %1: %2%3")
                                  .arg(++runNumber)
                                  .arg(runSettings.summary(), note.isEmpty() ? QString() : " · " + note));
      int candidateNumber = 0;
      for (const QJsonValue& candidateValue : run["candidates"].toArray()) {
        const QJsonObject candidate = candidateValue.toObject();
        out += style.item(++candidateNumber, QObject::tr("%1 (perplexity %2)")
                                                 .arg(candidate["text"].toString().trimmed())
                                                 .arg(candidate["perplexity"].toDouble(), 0, 'f', 1));
      }
      out += QStringLiteral("\n");
    }
  }
  return out;
}

const TextStyle kMarkdown{
    [](int level, const QString& title) { return QString(level, QLatin1Char('#')) + " " + title + "\n\n"; },
    [](const QString& text) { return "> " + QString(text).replace("\n", "\n> ") + "\n"; },
    [](int number, const QString& text) { return QStringLiteral("%1. %2\n").arg(number).arg(text); }};

const TextStyle kPlainText{
    [](int level, const QString& title) {
      const QString underline(title.size(), level <= 2 ? QLatin1Char('=') : QLatin1Char('-'));
      return title + "\n" + underline + "\n\n";
    },
    [](const QString& text) { return "    " + QString(text).replace("\n", "\n    ") + "\n"; },
    [](int number, const QString& text) { return QStringLiteral("  %1) %2\n").arg(number).arg(text); }};

}  // namespace

QString exportSuffix(ExportFormat format) {
  switch (format) {
    case ExportFormat::Markdown: return QStringLiteral("md");
    case ExportFormat::PlainText: return QStringLiteral("txt");
    case ExportFormat::Json: return QStringLiteral("json");
  }
  return {};
}

QByteArray exportDraft(ExportFormat format, const QString& draft, const GenerationSettings& settings,
                       const HistoryModel& history) {
  const QJsonArray runs = history.toJson();  // the other formats are written from it: all hold the same
  switch (format) {
    case ExportFormat::Markdown: return exportAsText(kMarkdown, draft, settings, runs).toUtf8();
    case ExportFormat::PlainText: return exportAsText(kPlainText, draft, settings, runs).toUtf8();
    case ExportFormat::Json:
      return QJsonDocument(QJsonObject{{"format", "dglm-writer-export"},
                                       {"version", 1},
                                       {"draft", draft},
                                       {"settings", settings.toJson()},
                                       {"history", runs}})
          .toJson(QJsonDocument::Indented);
  }
  return {};
}
