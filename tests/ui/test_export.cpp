// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Export: Markdown, plain text and JSON hold the draft, the settings and every candidate of the history;
// files are written atomically and a failed write says why.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "history/HistoryModel.h"
#include "persistence/AtomicFile.h"
#include "persistence/DraftExport.h"

class TestExport : public QObject {
  Q_OBJECT

 private:
  HistoryModel history_;
  GenerationSettings settings_;
  const QString draft_ = QStringLiteral("It was a quiet morning.\nThe end.");

 private slots:
  void initTestCase() {
    settings_.samples = 2;
    settings_.sigma2 = 0.3;
    settings_.guides = {{"sentiment", 1.5, ""}};
    history_.addRun("It was a quiet", settings_, {{" morning, calm", 12.5}, {" day at sea", 30.0}});
    GenerationSettings other = settings_;
    other.seed = 7;
    history_.addRun("It was a quiet", other, {{" hour", 8.0}});
    history_.addRun("Another prefix", settings_, {{" entirely", 5.0}});
  }

  void jsonHoldsEverything() {
    const QJsonObject root = QJsonDocument::fromJson(exportDraft(ExportFormat::Json, draft_, settings_, history_)).object();
    QCOMPARE(root["draft"].toString(), draft_);
    QCOMPARE(GenerationSettings::fromJson(root["settings"].toObject()), settings_);
    const QJsonArray prefixes = root["history"].toArray();
    QCOMPARE(prefixes.size(), 2);
    const QJsonObject first = prefixes[0].toObject();
    QCOMPARE(first["prefix"].toString(), QString("It was a quiet"));
    const QJsonArray runs = first["runs"].toArray();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(GenerationSettings::fromJson(runs[1].toObject()["settings"].toObject()).seed, quint64(7));
    const QJsonArray candidates = runs[0].toObject()["candidates"].toArray();
    QCOMPARE(candidates.size(), 2);
    QCOMPARE(candidates[1].toObject()["text"].toString(), QString(" day at sea"));
    QCOMPARE(candidates[1].toObject()["perplexity"].toDouble(), 30.0);
  }

  void markdownAndPlainTextListEveryCandidate() {
    const QString markdown = QString::fromUtf8(exportDraft(ExportFormat::Markdown, draft_, settings_, history_));
    QVERIFY(markdown.startsWith("# Draft\n\nIt was a quiet morning.\nThe end.\n"));
    QVERIFY(markdown.contains("## Settings\n\n" + settings_.summary()));
    QVERIFY(markdown.contains("> It was a quiet\n"));
    QVERIFY2(markdown.contains("1. morning, calm (perplexity 12.5)\n2. day at sea (perplexity 30.0)"), qPrintable(markdown));
    QVERIFY(markdown.contains("#### Run 2: "));
    QVERIFY(markdown.contains("1. entirely (perplexity 5.0)"));

    const QString text = QString::fromUtf8(exportDraft(ExportFormat::PlainText, draft_, settings_, history_));
    QVERIFY(text.startsWith("Draft\n=====\n\nIt was a quiet morning."));
    QVERIFY(!text.contains("#"));
    for (const QString& candidate : {"morning, calm", "day at sea", "hour", "entirely"}) QVERIFY(text.contains(candidate));
  }

  void writesAtomicallyAndReportsFailures() {
    QTemporaryDir dir;
    const QString path = dir.filePath("draft.md");
    QString error;
    QVERIFY(writeFileAtomically(path, "first", &error));
    QVERIFY(writeFileAtomically(path, "second", &error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("second"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);  // no temporary file left behind

    QVERIFY(!writeFileAtomically(path + "/inside-a-file.md", "x", &error));
    QVERIFY(error.contains("inside-a-file.md"));
  }
};

QTEST_MAIN(TestExport)
#include "test_export.moc"
