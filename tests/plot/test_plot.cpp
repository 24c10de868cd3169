// SPDX-License-Identifier: GPL-3.0-or-later
// dglm-plot: a PNG of the requested size from an evaluation CSV, and exit 1 with a clear message on errors.
#include <QImage>
#include <QImageReader>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

const QString kSweep = QStringLiteral(DGLM_TEST_DATA_DIR "/eval-sweep.csv");

struct Run {
  int exitCode = -1;
  QString errors;
};

// Runs dglm-plot without a platform set, so that it has to choose offscreen itself.
Run runPlot(const QStringList& arguments) {
  QProcess process;
  QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
  environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
  environment.remove(QStringLiteral("DISPLAY"));
  environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
  process.setProcessEnvironment(environment);
  process.start(QStringLiteral(DGLM_PLOT), arguments);
  if (!process.waitForFinished(60000)) return {};
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardError())};
}

}  // namespace

class TestPlot : public QObject {
  Q_OBJECT

 private slots:
  void rendersAPngOfTheRequestedSize() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("sweep.png"));
    const Run run = runPlot({kSweep, QStringLiteral("--x"), QStringLiteral("guide_weight"), QStringLiteral("--y"),
                             QStringLiteral("judge-sentiment:positive,scorer_perplexity"), QStringLiteral("--group"),
                             QStringLiteral("guides"), QStringLiteral("--title"), QStringLiteral("Weight sweeps"),
                             QStringLiteral("--width"), QStringLiteral("640"), QStringLiteral("--height"),
                             QStringLiteral("400"), QStringLiteral("-o"), out});
    QVERIFY2(run.exitCode == 0, qPrintable(run.errors));
    QImageReader reader(out);
    QCOMPARE(reader.format(), QByteArray("png"));
    const QImage image = reader.read();
    QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
    QCOMPARE(image.size(), QSize(640, 400));
    // Something was drawn: the chart is more than a blank background.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4)
      for (int x = 0; x < image.width(); x += 4) colours.insert(image.pixel(x, y));
    QVERIFY(colours.size() > 10);
  }

  void unknownColumnExits1NamingItAndTheColumns() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("none.png"));
    const Run run = runPlot({kSweep, QStringLiteral("--x"), QStringLiteral("guide_weight"), QStringLiteral("--y"),
                             QStringLiteral("scorer_perplexity,judge-colour:blue"), QStringLiteral("-o"), out});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.errors.contains(QStringLiteral("no column 'judge-colour:blue'")), qPrintable(run.errors));
    QVERIFY2(run.errors.contains(QStringLiteral("label, method, sigma2")), qPrintable(run.errors));
    QVERIFY(!QFile::exists(out));
  }

  void missingFileExits1() {
    const Run run = runPlot({QStringLiteral("/nonexistent/eval.csv"), QStringLiteral("--x"), QStringLiteral("a"),
                             QStringLiteral("--y"), QStringLiteral("b"), QStringLiteral("-o"), QStringLiteral("x.png")});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.errors.contains(QStringLiteral("/nonexistent/eval.csv: no such file")), qPrintable(run.errors));
  }
};

QTEST_GUILESS_MAIN(TestPlot)
#include "test_plot.moc"
