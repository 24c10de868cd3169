// SPDX-License-Identifier: GPL-3.0-or-later
// `dglm-writer --tour DIR` (packaging/screenshot.sh runs it): drives the app through its main features and saves a PNG of each state into DIR
// (for the README): a prefix with sliders set, K = 4 continuations, another token picked in one of them and the
// card written again from it, compare mode with two settings, and a probe trained from a CSV file. Each step starts when the previous one's signal arrives; no input events are
// faked. Exits the application with 0 when every screenshot was written, else 1 with a message.
#pragma once

#include <QDir>
#include <QObject>
#include <QTimer>

class MainWindow;
class QMenu;
class QWidget;

class ScreenshotTour : public QObject {
  Q_OBJECT

 public:
  ScreenshotTour(MainWindow* window, const QString& outputDirectory, const QString& probeCsv,
                 QObject* parent = nullptr);

  // Call before the model is opened: the tour starts when it has loaded.
  void start();

 private:
  void setUpDraft();
  void generate();
  void openAlternatives();
  void pickAlternative();
  void compare();
  void trainProbe();
  void startTraining();
  void showNewSlider();
  void finish();
  // Saves widget as DIR/NAME.png once pending layouts and repaints have run, then calls next. A popup (a
  // window of its own) is drawn into the picture where it shows.
  void capture(QWidget* widget, const QString& name, void (ScreenshotTour::*next)(), QWidget* popup = nullptr);
  void fail(const QString& message);

  MainWindow* window_;
  QDir output_;
  QString probeCsv_;
  QTimer watchdog_;
  QMenu* alternatives_ = nullptr;  // the menu of the token picked in the tour
};
