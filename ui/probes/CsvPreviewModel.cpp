// SPDX-License-Identifier: GPL-3.0-or-later
#include "probes/CsvPreviewModel.h"

namespace {
constexpr int kMaxCellCharacters = 200;  // a long text cell is elided; its tooltip holds all of it
}

CsvPreviewModel::CsvPreviewModel(QObject* parent) : QAbstractTableModel(parent) {}

void CsvPreviewModel::setPreview(const QStringList& columns, const QVector<QStringList>& rows,
                                 const QVector<long>& lineNumbers) {
  beginResetModel();
  columns_ = columns;
  rows_ = rows;
  lineNumbers_ = lineNumbers;
  endResetModel();
}

void CsvPreviewModel::clear() { setPreview({}, {}, {}); }

int CsvPreviewModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

int CsvPreviewModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(columns_.size());
}

QVariant CsvPreviewModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  const QStringList& row = rows_[index.row()];
  const QString cell = index.column() < row.size() ? row[index.column()] : QString();
  if (role == Qt::DisplayRole) {
    QString shown = cell.left(kMaxCellCharacters).replace(QLatin1Char('\n'), QStringLiteral(" ⏎ "));
    return cell.size() > kMaxCellCharacters ? shown + QStringLiteral("…") : shown;
  }
  if (role == Qt::ToolTipRole) return cell;
  return {};
}

QVariant CsvPreviewModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Horizontal) return section < columns_.size() ? columns_[section] : QVariant();
  return section < lineNumbers_.size() ? tr("line %1").arg(lineNumbers_[section]) : QVariant();
}
