// SPDX-License-Identifier: GPL-3.0-or-later
#include "probes/ProbeTrainingDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "probes/CsvPreviewModel.h"
#include "worker/WorkerHost.h"

namespace {

// A probe's name is a file name in the probe folder and the name guidance refers to.
const QRegularExpression kProbeName(QStringLiteral("^[A-Za-z0-9_-]{1,64}$"));

struct DelimiterChoice {
  char delimiter;
  const char* name;
};
constexpr DelimiterChoice kDelimiters[] = {{',', "comma"}, {';', "semicolon"}, {'\t', "tab"}, {'|', "vertical bar"}};

QString delimiterName(char delimiter) {
  for (const DelimiterChoice& choice : kDelimiters) {
    if (choice.delimiter == delimiter) return ProbeTrainingDialog::tr(choice.name);
  }
  return QString(QLatin1Char(delimiter));
}

// The wanted column when the file still has it, else the first column with one of the usual names, else
// `fallback` (an index into columns).
QString pickColumn(const QStringList& columns, const QString& wanted, const QStringList& usualNames, int fallback) {
  if (columns.contains(wanted)) return wanted;
  for (const QString& column : columns) {
    if (usualNames.contains(column.trimmed(), Qt::CaseInsensitive)) return column;
  }
  return columns.value(fallback);
}

// The column whose preview cells are longest on average: where the text usually is.
int longestColumn(const QVector<QStringList>& rows, int columns) {
  int best = 0;
  qint64 bestLength = -1;
  for (int column = 0; column < columns; ++column) {
    qint64 length = 0;
    for (const QStringList& row : rows) length += row.value(column).size();
    if (length > bestLength) {
      best = column;
      bestLength = length;
    }
  }
  return best;
}

// Reads the preview, picks the columns and counts the classes of every row. Runs on a pool thread.
CsvInspection inspectCsv(const QString& path, std::optional<dglm::CsvDialect> dialect, const QString& wantedText,
                         const QString& wantedLabel, const std::shared_ptr<std::atomic<bool>>& cancelled) {
  CsvInspection inspection;
  inspection.dialectDetected = !dialect;
  try {
    dglm::CsvOptions options;
    options.dialect = dialect;
    const dglm::CsvPreview preview =
        dglm::preview_csv(path.toStdString(), ProbeTrainingDialog::kPreviewRows, options);
    inspection.dialect = preview.dialect;
    for (const std::string& column : preview.columns) inspection.columns << QString::fromStdString(column);
    for (const dglm::CsvRecord& record : preview.records) {
      QStringList fields;
      for (const std::string& field : record.fields) fields << QString::fromStdString(field);
      inspection.rows.append(fields);
      inspection.lineNumbers.append(record.line);
    }
    const int columns = int(inspection.columns.size());
    inspection.textColumn = pickColumn(inspection.columns, wantedText, {"text", "sentence", "content", "body"},
                                       longestColumn(inspection.rows, columns));
    inspection.labelColumn = pickColumn(inspection.columns, wantedLabel, {"label", "class", "category", "target"},
                                        columns - 1);
    if (inspection.textColumn == inspection.labelColumn) {
      inspection.error = ProbeTrainingDialog::tr("Pick different columns for the text and the label.");
      return inspection;
    }

    dglm::LabelledCsvOptions labelled;
    labelled.csv.dialect = preview.dialect;
    labelled.max_rows = 1;  // only the counts are wanted here: keep memory flat for a file of any size
    const dglm::LabelledCsv counted = dglm::read_labelled_csv(
        path.toStdString(), inspection.textColumn.toStdString(), inspection.labelColumn.toStdString(), labelled,
        [&cancelled](float) { return !cancelled->load(); });
    inspection.dataRows = qint64(counted.rows);
    for (const auto& [label, count] : counted.class_counts) {
      inspection.classCounts.insert(QString::fromStdString(label), qint64(count));
    }
  } catch (const dglm::Error& error) {
    inspection.error = describeCoreError(error);
  }
  return inspection;
}

}  // namespace

ProbeTrainingDialog::ProbeTrainingDialog(WorkerHost* host, const QString& probeDirectory, QWidget* parent)
    : QDialog(parent), host_(host), probeDirectory_(probeDirectory), previewModel_(new CsvPreviewModel(this)) {
  setWindowTitle(tr("Train a probe from a CSV file"));
  setAcceptDrops(true);
  auto* layout = new QVBoxLayout(this);

  auto* fileRow = new QHBoxLayout;
  path_ = new QLineEdit;
  path_->setPlaceholderText(tr("A CSV file with a text column and a label column (or drop one here)"));
  auto* browse = new QPushButton(tr("&Browse…"));
  fileRow->addWidget(new QLabel(tr("CSV file:")));
  fileRow->addWidget(path_, 1);
  fileRow->addWidget(browse);
  layout->addLayout(fileRow);

  auto* dialectRow = new QHBoxLayout;
  delimiter_ = new QComboBox;
  for (const DelimiterChoice& choice : kDelimiters) delimiter_->addItem(tr(choice.name), QChar(choice.delimiter));
  delimiter_->setToolTip(tr("Detected from the file; pick another to override"));
  header_ = new QCheckBox(tr("First row names the columns"));
  auto* quote = new QLabel(tr("Quote: \" (doubled inside a field)"));
  quote->setToolTip(tr("Fields are quoted as in RFC 4180; this is the only quoting the reader accepts."));
  dialectRow->addWidget(new QLabel(tr("Delimiter:")));
  dialectRow->addWidget(delimiter_);
  dialectRow->addWidget(header_);
  dialectRow->addWidget(quote);
  dialectRow->addStretch(1);
  layout->addLayout(dialectRow);
  detected_ = new QLabel;
  layout->addWidget(detected_);

  preview_ = new QTableView;
  preview_->setModel(previewModel_);
  preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  preview_->setWordWrap(false);
  preview_->horizontalHeader()->setStretchLastSection(false);
  preview_->setMinimumHeight(150);
  layout->addWidget(preview_, 1);

  auto* form = new QFormLayout;
  textColumn_ = new QComboBox;
  labelColumn_ = new QComboBox;
  classCounts_ = new QLabel;
  classCounts_->setWordWrap(true);
  heldout_ = new QDoubleSpinBox;
  heldout_->setRange(0.05, 0.5);
  heldout_->setSingleStep(0.05);
  heldout_->setValue(0.2);
  heldout_->setToolTip(tr("Share of the rows kept aside (per class) to measure accuracy on unseen text"));
  heldoutPath_ = new QLineEdit;
  heldoutPath_->setPlaceholderText(tr("or measure on another file (optional)"));
  heldoutPath_->setToolTip(tr("A CSV file with the same columns and delimiter whose rows only measure the probe; "
                              "then every row of the file above trains it"));
  heldoutBrowse_ = new QPushButton(tr("C&hoose…"));
  auto* heldoutRow = new QHBoxLayout;
  heldoutRow->addWidget(heldout_);
  heldoutRow->addWidget(heldoutPath_, 1);
  heldoutRow->addWidget(heldoutBrowse_);
  name_ = new QLineEdit;
  name_->setValidator(new QRegularExpressionValidator(kProbeName, name_));
  name_->setPlaceholderText(tr("letters, digits, - and _"));
  form->addRow(tr("&Text column:"), textColumn_);
  form->addRow(tr("&Label column:"), labelColumn_);
  form->addRow(tr("Classes:"), classCounts_);
  auto* heldoutLabel = new QLabel(tr("&Held-out rows:"));  // a row of widgets: the label needs its buddy named
  heldoutLabel->setBuddy(heldout_);
  form->addRow(heldoutLabel, heldoutRow);
  form->addRow(tr("&Name:"), name_);
  layout->addLayout(form);

  message_ = new QLabel;
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(message_);

  auto* trainRow = new QHBoxLayout;
  progress_ = new QProgressBar;
  progress_->setRange(0, 100);
  train_ = new QPushButton(tr("T&rain"));
  cancel_ = new QPushButton(tr("&Cancel training"));
  trainRow->addWidget(progress_, 1);
  trainRow->addWidget(train_);
  trainRow->addWidget(cancel_);
  layout->addLayout(trainRow);

  accuracy_ = new QLabel;
  accuracy_->setWordWrap(true);
  layout->addWidget(accuracy_);
  confusion_ = new QTableWidget;
  confusion_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  confusion_->setToolTip(tr("Held-out rows: true class (rows) against the predicted class (columns)"));
  confusion_->setVisible(false);
  layout->addWidget(confusion_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  layout->addWidget(buttons);

  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Labelled CSV file"), csvPath_,
                                                      tr("CSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) setCsvPath(path);
  });
  connect(heldoutBrowse_, &QPushButton::clicked, this, [this] {
    const QString start = heldoutPath_->text().isEmpty() ? csvPath_ : heldoutPath_->text();
    const QString path = QFileDialog::getOpenFileName(this, tr("Held-out CSV file"), start,
                                                      tr("CSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) setHeldoutCsvPath(path);
  });
  // With a held-out file, the share of this file is moot.
  connect(heldoutPath_, &QLineEdit::textChanged, this, [this] { setTrainingState(isTraining()); });
  connect(path_, &QLineEdit::editingFinished, this, [this] {
    if (path_->text() != csvPath_) setCsvPath(path_->text());
  });
  // activated/clicked: only a person's choice overrides the detected dialect.
  const auto overrideDialect = [this] {
    dialectOverride_ = dglm::CsvDialect{delimiter_->currentData().toChar().toLatin1(), header_->isChecked()};
    inspect();
  };
  connect(delimiter_, &QComboBox::activated, this, overrideDialect);
  connect(header_, &QCheckBox::clicked, this, overrideDialect);
  connect(textColumn_, &QComboBox::activated, this, &ProbeTrainingDialog::inspect);
  connect(labelColumn_, &QComboBox::activated, this, &ProbeTrainingDialog::inspect);
  connect(train_, &QPushButton::clicked, this, &ProbeTrainingDialog::startTraining);
  connect(cancel_, &QPushButton::clicked, this, &ProbeTrainingDialog::cancelTraining);

  connect(host_, &WorkerHost::trainingProgress, this, [this](quint64 jobId, double fraction) {
    if (jobId == jobId_) progress_->setValue(int(fraction * 100));
  });
  connect(host_, &WorkerHost::probeTrained, this, [this](quint64 jobId, const ProbeTrainingResult& result) {
    if (jobId != jobId_) return;
    setTrainingState(false);
    showResult(result);
    emit trainingSettled(true);
  });
  connect(host_, &WorkerHost::trainingFailed, this, [this](quint64 jobId, const QString& message) {
    if (jobId != jobId_) return;
    setTrainingState(false);
    showMessage(tr("Training failed: %1").arg(message), true);
    emit trainingSettled(false);
  });
  connect(host_, &WorkerHost::trainingCancelled, this, [this](quint64 jobId) {
    if (jobId != jobId_) return;
    setTrainingState(false);
    showMessage(tr("Training cancelled; nothing was saved."), false);
    emit trainingSettled(false);
  });
  setTrainingState(false);
  resize(760, 640);
}

ProbeTrainingDialog::~ProbeTrainingDialog() {
  if (inspectionCancelled_) inspectionCancelled_->store(true);
  if (isTraining()) host_->cancelTraining();
}

void ProbeTrainingDialog::setCsvPath(const QString& path) {
  csvPath_ = path;
  path_->setText(path);
  dialectOverride_.reset();
  inspection_ = {};
  textColumn_->clear();
  labelColumn_->clear();
  if (name_->text().isEmpty()) {
    // A starting name from the file name, in the characters a probe name allows.
    name_->setText(QFileInfo(path).completeBaseName().replace(QRegularExpression("[^A-Za-z0-9_-]"), "_").left(64));
  }
  inspect();
}

void ProbeTrainingDialog::setProbeName(const QString& name) { name_->setText(name); }

void ProbeTrainingDialog::setHeldoutFraction(double fraction) { heldout_->setValue(fraction); }

void ProbeTrainingDialog::setHeldoutCsvPath(const QString& path) { heldoutPath_->setText(path); }

QString ProbeTrainingDialog::messageText() const { return message_->text(); }

void ProbeTrainingDialog::inspect() {
  if (inspectionCancelled_) inspectionCancelled_->store(true);  // a newer question makes the old answer moot
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  inspectionCancelled_ = cancelled;
  showMessage(tr("Reading %1…").arg(QFileInfo(csvPath_).fileName()), false);
  train_->setEnabled(false);

  auto* watcher = new QFutureWatcher<CsvInspection>(this);
  connect(watcher, &QFutureWatcher<CsvInspection>::finished, this, [this, watcher, cancelled] {
    watcher->deleteLater();
    if (cancelled->load()) return;
    showInspection(watcher->result());
    emit inspected();
  });
  watcher->setFuture(QtConcurrent::run(inspectCsv, csvPath_, dialectOverride_, textColumn_->currentData().toString(),
                                       labelColumn_->currentData().toString(), cancelled));
}

void ProbeTrainingDialog::showInspection(const CsvInspection& inspection) {
  inspection_ = inspection;
  previewModel_->setPreview(inspection.columns, inspection.rows, inspection.lineNumbers);

  const int delimiterIndex = delimiter_->findData(QChar(inspection.dialect.delimiter));
  if (delimiterIndex >= 0) delimiter_->setCurrentIndex(delimiterIndex);
  header_->setChecked(inspection.dialect.has_header);
  const QString dialect = tr("%1-separated, %2")
                              .arg(delimiterName(inspection.dialect.delimiter),
                                   inspection.dialect.has_header ? tr("first row names the columns")
                                                                 : tr("no header row (columns are numbered)"));
  detected_->setText(inspection.dialectDetected ? tr("Detected: %1").arg(dialect) : tr("Your choice: %1").arg(dialect));

  for (QComboBox* picker : {textColumn_, labelColumn_}) {
    picker->clear();
    for (const QString& column : inspection.columns) {
      picker->addItem(inspection.dialect.has_header ? column : tr("column %1").arg(column), column);
    }
  }
  textColumn_->setCurrentIndex(textColumn_->findData(inspection.textColumn));
  labelColumn_->setCurrentIndex(labelColumn_->findData(inspection.labelColumn));
  // The text column takes the room; ids and labels keep their natural width.
  for (int column = 0; column < inspection.columns.size(); ++column) {
    const bool isText = inspection.columns[column] == inspection.textColumn;
    preview_->horizontalHeader()->setSectionResizeMode(column, isText ? QHeaderView::Stretch : QHeaderView::ResizeToContents);
  }

  QStringList counts;
  for (auto it = inspection.classCounts.cbegin(); it != inspection.classCounts.cend(); ++it) {
    counts << tr("%1: %2").arg(it.key()).arg(it.value());
  }
  classCounts_->setText(counts.isEmpty() ? QString()
                                         : tr("%1 (%n row(s))", nullptr, int(inspection.dataRows)).arg(counts.join(" · ")));

  if (inspection.error.isEmpty()) {
    showMessage(tr("Ready to train on %n row(s).", nullptr, int(inspection.dataRows)), false);
  } else {
    showMessage(inspection.error, true);
  }
  setTrainingState(false);
}

void ProbeTrainingDialog::showMessage(const QString& message, bool isError) {
  message_->setText(message);
  message_->setStyleSheet(isError ? QStringLiteral("color: #b00020;") : QString());
}

bool ProbeTrainingDialog::startTraining() {
  if (isTraining()) return false;
  if (csvPath_.isEmpty() || !inspection_.error.isEmpty() || inspection_.columns.isEmpty()) {
    showMessage(tr("Choose a CSV file that reads without errors first."), true);
    return false;
  }
  if (!kProbeName.match(name_->text()).hasMatch()) {
    showMessage(tr("Give the probe a name of letters, digits, - and _."), true);
    return false;
  }
  ProbeTrainingRequest request;
  request.csvPath = csvPath_;
  request.textColumn = inspection_.textColumn;
  request.labelColumn = inspection_.labelColumn;
  request.delimiter = QLatin1Char(inspection_.dialect.delimiter);
  request.hasHeader = inspection_.dialect.has_header;
  request.name = name_->text();
  request.heldoutFraction = heldout_->value();
  request.heldoutCsvPath = heldoutPath_->text().trimmed();
  request.outputPath = QDir(probeDirectory_).filePath(request.name);
  accuracy_->clear();
  confusion_->setVisible(false);
  progress_->setValue(0);
  showMessage(tr("Training %1: embedding %n row(s)…", nullptr, int(inspection_.dataRows)).arg(request.name), false);
  jobId_ = host_->trainProbe(request);
  setTrainingState(true);
  return true;
}

void ProbeTrainingDialog::cancelTraining() {
  if (isTraining()) host_->cancelTraining();
}

void ProbeTrainingDialog::setTrainingState(bool training) {
  if (!training) jobId_ = 0;
  train_->setEnabled(!training && !csvPath_.isEmpty() && inspection_.error.isEmpty() && !inspection_.columns.isEmpty());
  cancel_->setEnabled(training);
  for (QWidget* input : std::initializer_list<QWidget*>{path_, delimiter_, header_, textColumn_, labelColumn_,
                                                       heldoutPath_, heldoutBrowse_, name_}) {
    input->setEnabled(!training);
  }
  heldout_->setEnabled(!training && heldoutPath_->text().trimmed().isEmpty());  // a held-out file replaces the share
  if (!training) progress_->setValue(0);
}

void ProbeTrainingDialog::showResult(const ProbeTrainingResult& result) {
  progress_->setValue(100);
  const QString heldout = result.heldoutRows > 0
                              ? tr("Held-out accuracy %1% on %n row(s)", nullptr, int(result.heldoutRows))
                                    .arg(100 * result.heldoutAccuracy, 0, 'f', 1)
                              : tr("No held-out rows");
  accuracy_->setText(tr("<b>%1</b> (training accuracy %2% on %3 rows).")
                         .arg(heldout.toHtmlEscaped())
                         .arg(100 * result.trainAccuracy, 0, 'f', 1)
                         .arg(result.trainRows));
  showMessage(tr("Saved the probe %1 in %2; its slider is in the Guidance panel.")
                  .arg(result.name, QDir::toNativeSeparators(probeDirectory_)),
              false);

  const int classes = int(result.classes.size());
  confusion_->clear();
  confusion_->setRowCount(classes);
  confusion_->setColumnCount(classes);
  QStringList predicted, actual;
  for (const QString& name : result.classes) {
    predicted << tr("predicted %1").arg(name);
    actual << tr("true %1").arg(name);
  }
  confusion_->setHorizontalHeaderLabels(predicted);
  confusion_->setVerticalHeaderLabels(actual);
  for (int row = 0; row < classes && row < result.confusion.size(); ++row) {
    for (int column = 0; column < classes && column < result.confusion[row].size(); ++column) {
      auto* cell = new QTableWidgetItem(QString::number(result.confusion[row][column]));
      cell->setTextAlignment(Qt::AlignCenter);
      if (row == column) cell->setBackground(QColor(200, 235, 200));  // the correct predictions
      confusion_->setItem(row, column, cell);
    }
  }
  confusion_->resizeColumnsToContents();
  confusion_->setVisible(result.heldoutRows > 0);
}

void ProbeTrainingDialog::dragEnterEvent(QDragEnterEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (!isTraining() && !urls.isEmpty() && urls.first().isLocalFile()) event->acceptProposedAction();
}

void ProbeTrainingDialog::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  setCsvPath(urls.first().toLocalFile());
  event->acceptProposedAction();
}
