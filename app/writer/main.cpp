// SPDX-License-Identifier: GPL-3.0-or-later
// DGLM Writer: a writing assistant steered by diffusion-guided language modelling.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QTimer>
#include <cstdio>
#include <memory>

#include "MainWindow.h"
#include "ScreenshotTour.h"
#include "persistence/DataDirectory.h"

namespace {

// --model, else $DGLM_MODEL_DIR, else the installed default model, else the tiny model of the build tree.
QString defaultModelDirectory() {
  const QString fromEnvironment = qEnvironmentVariable("DGLM_MODEL_DIR");
  if (!fromEnvironment.isEmpty()) return fromEnvironment;
  const QString installed =
      QDir(QCoreApplication::applicationDirPath()).absoluteFilePath("../share/dglm-writer/models/default");
  if (QFileInfo::exists(installed)) return QDir::cleanPath(installed);
  return QStringLiteral(DGLM_BUILD_TREE_MODEL);
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("dglm-writer");
  QApplication::setApplicationName("dglm-writer");
  QApplication::setApplicationDisplayName("DGLM Writer");
  QApplication::setApplicationVersion(DGLM_WRITER_VERSION);
  QApplication::setDesktopFileName("io.github.dglmwriter.DglmWriter");
  QApplication::setWindowIcon(QIcon(":/icons/io.github.dglmwriter.DglmWriter.svg"));

  QCommandLineParser parser;
  parser.setApplicationDescription("Writing assistant that steers a local language model with diffusion guidance.");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption modelOption("model", "Model directory to open (default: $DGLM_MODEL_DIR, then the "
                                       "installed default model).", "DIR");
  const QCommandLineOption screenshotOption("screenshot", "Save a PNG of the window to FILE once the model has "
                                            "loaded (or failed), then quit.", "FILE");
  const QCommandLineOption tourOption("tour", "Walk through the main features (prefix and sliders, K = 4 "
                                      "continuations, compare mode, a probe trained from --tour-csv), saving a PNG "
                                      "of each state into DIR, then quit.", "DIR");
  const QCommandLineOption tourCsvOption("tour-csv", "Labelled CSV file the tour trains a probe from.", "FILE");
  parser.addOption(modelOption);
  parser.addOption(screenshotOption);
  parser.addOption(tourOption);
  parser.addOption(tourCsvOption);
  parser.process(app);
  if (parser.isSet(tourOption) && !parser.isSet(tourCsvOption)) {
    std::fprintf(stderr, "dglm-writer: --tour needs --tour-csv FILE\n");
    return 2;
  }

  const QString screenshotPath = parser.value(screenshotOption);
  MainWindow::Options options;
  QStringList dataWarnings;
  options.dataDirectory = userDataDirectory(&dataWarnings);
  options.interactive = screenshotPath.isEmpty() && !parser.isSet(tourOption);
  MainWindow window(options);
  window.resize(1280, 800);

  if (!screenshotPath.isEmpty()) {
    QObject::connect(&window, &MainWindow::modelSettled, &app, [&window, &app, screenshotPath] {
      // One more turn of the event loop so that the panel rebuilt for the model's probes is laid out.
      QTimer::singleShot(300, &app, [&window, &app, screenshotPath] {
        const bool saved = window.grab().save(screenshotPath);
        if (!saved) std::fprintf(stderr, "dglm-writer: could not write %s\n", qPrintable(screenshotPath));
        app.exit(saved ? 0 : 1);
      });
    });
  }

  std::unique_ptr<ScreenshotTour> tour;
  if (parser.isSet(tourOption)) {
    tour = std::make_unique<ScreenshotTour>(&window, parser.value(tourOption), parser.value(tourCsvOption));
    tour->start();
  }

  window.show();
  if (!dataWarnings.isEmpty() && options.interactive)
    QMessageBox::warning(&window, QApplication::applicationDisplayName(),
                         QApplication::translate("main", "Some of your data from an earlier version stayed in its old "
                                                 "folder:\n\n%1").arg(dataWarnings.join('\n')));
  for (const QString& warning : dataWarnings) std::fprintf(stderr, "dglm-writer: %s\n", qPrintable(warning));
  window.openModel(parser.isSet(modelOption) ? parser.value(modelOption) : defaultModelDirectory());
  return app.exec();
}
