// SPDX-License-Identifier: GPL-3.0-or-later
// The first rows of a CSV file as a read-only table, with the file's column names as headers.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVector>

class CsvPreviewModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  explicit CsvPreviewModel(QObject* parent = nullptr);

  // rows[i][j] is field j of data row i; lineNumbers[i] is the file line where row i starts (row headers).
  void setPreview(const QStringList& columns, const QVector<QStringList>& rows, const QVector<long>& lineNumbers);
  void clear();

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  QStringList columns_;
  QVector<QStringList> rows_;
  QVector<long> lineNumbers_;
};
