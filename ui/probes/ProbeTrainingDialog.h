// SPDX-License-Identifier: GPL-3.0-or-later
// Train a probe from a labelled CSV file: pick or drop the file, check the detected dialect against a preview
// of its first rows, pick the text and label columns (the class counts follow), then train on the worker
// thread with a progress bar and Cancel, measured on a share of the file or on a held-out file of the same
// columns. The probe is saved into the user's probe folder and added to the loaded model, so its slider
// appears at once; the dialog shows held-out accuracy and the confusion matrix.
#pragma once

#include <QDialog>
#include <QMap>
#include <atomic>
#include <memory>
#include <optional>

#include "dglm/csv.h"
#include "worker/CoreTypes.h"

class CsvPreviewModel;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableView;
class QTableWidget;
class WorkerHost;

// What the dialog learnt from reading a CSV file (computed off the GUI thread).
struct CsvInspection {
  QString error;                 // empty: the file is usable with these columns
  dglm::CsvDialect dialect;
  bool dialectDetected = true;   // false: the user's override was used
  QStringList columns;
  QVector<QStringList> rows;
  QVector<long> lineNumbers;
  QString textColumn;            // as passed to the core: a header name or a 1-based number
  QString labelColumn;
  qint64 dataRows = 0;
  QMap<QString, qint64> classCounts;
};

class ProbeTrainingDialog : public QDialog {
  Q_OBJECT

 public:
  static constexpr int kPreviewRows = 8;

  // Probes are saved as probeDirectory/NAME.json and the weights file it names.
  ProbeTrainingDialog(WorkerHost* host, const QString& probeDirectory, QWidget* parent = nullptr);
  ~ProbeTrainingDialog() override;

  // Reads the file again from the start: detects its dialect and guesses the columns.
  void setCsvPath(const QString& path);
  void setProbeName(const QString& name);
  void setHeldoutFraction(double fraction);
  // Measure on this file's rows (same columns) instead of a share of the training file; empty: the share.
  void setHeldoutCsvPath(const QString& path);
  // Starts training with the current choices; false (and a message) when they are not usable.
  bool startTraining();
  void cancelTraining();

  // For tests and the screenshot tour.
  QString messageText() const;
  const CsvInspection& inspection() const { return inspection_; }
  CsvPreviewModel* previewModel() const { return previewModel_; }
  QComboBox* delimiterPicker() const { return delimiter_; }
  QCheckBox* headerCheck() const { return header_; }
  QComboBox* textColumnPicker() const { return textColumn_; }
  QComboBox* labelColumnPicker() const { return labelColumn_; }
  QTableWidget* confusionTable() const { return confusion_; }
  bool isTraining() const { return jobId_ != 0; }

 signals:
  // A (re-)inspection of the file finished; messageText() says what is wrong, if anything.
  void inspected();
  void trainingSettled(bool trained);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void inspect();
  void showInspection(const CsvInspection& inspection);
  void showMessage(const QString& message, bool isError);
  void showResult(const ProbeTrainingResult& result);
  void setTrainingState(bool training);

  WorkerHost* host_;
  QString probeDirectory_;
  QString csvPath_;
  std::optional<dglm::CsvDialect> dialectOverride_;  // empty: detect
  CsvInspection inspection_;
  std::shared_ptr<std::atomic<bool>> inspectionCancelled_;  // of the inspection in flight
  quint64 jobId_ = 0;                                        // 0: not training

  QLineEdit* path_ = nullptr;
  QComboBox* delimiter_ = nullptr;
  QCheckBox* header_ = nullptr;
  QLabel* detected_ = nullptr;
  CsvPreviewModel* previewModel_ = nullptr;
  QTableView* preview_ = nullptr;
  QComboBox* textColumn_ = nullptr;
  QComboBox* labelColumn_ = nullptr;
  QLabel* classCounts_ = nullptr;
  QDoubleSpinBox* heldout_ = nullptr;
  QLineEdit* heldoutPath_ = nullptr;
  QPushButton* heldoutBrowse_ = nullptr;
  QLineEdit* name_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* train_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QLabel* accuracy_ = nullptr;
  QTableWidget* confusion_ = nullptr;
};
