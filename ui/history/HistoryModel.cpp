// SPDX-License-Identifier: GPL-3.0-or-later
#include "history/HistoryModel.h"

#include <QDateTime>

namespace {
constexpr int kExcerptLength = 60;

QString excerpt(const QString& text) {
  QString line = text.simplified();
  if (line.size() > kExcerptLength) line = QStringLiteral("…") + line.right(kExcerptLength - 1);
  return line.isEmpty() ? QStringLiteral("(empty prefix)") : line;
}
}  // namespace

struct HistoryModel::Node {
  NodeKind kind = NodeKind::Prefix;
  QString text;  // prefix or candidate text
  GenerationSettings settings;
  double perplexity = 0;
  QDateTime created;
  Node* parent = nullptr;
  std::vector<std::unique_ptr<Node>> children;

  int row() const {
    if (!parent) return 0;
    for (size_t i = 0; i < parent->children.size(); ++i) {
      if (parent->children[i].get() == this) return int(i);
    }
    return 0;
  }
};

HistoryModel::HistoryModel(QObject* parent) : QAbstractItemModel(parent), root_(std::make_unique<Node>()) {}

HistoryModel::~HistoryModel() = default;

QModelIndex HistoryModel::addRun(const QString& prefix, const GenerationSettings& settings,
                                 const QVector<HistoryCandidate>& candidates) {
  Node* prefixNode = nullptr;
  for (const auto& child : root_->children) {
    if (child->text == prefix) prefixNode = child.get();
  }
  if (!prefixNode) {
    const int row = int(root_->children.size());
    beginInsertRows({}, row, row);
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::Prefix;
    node->text = prefix;
    node->created = QDateTime::currentDateTime();
    node->parent = root_.get();
    prefixNode = node.get();
    root_->children.push_back(std::move(node));
    endInsertRows();
  }

  // The run and its candidates are built first and inserted as one row, so views see a complete subtree.
  auto run = std::make_unique<Node>();
  run->kind = NodeKind::Run;
  run->settings = settings;
  run->created = QDateTime::currentDateTime();
  run->parent = prefixNode;
  for (const HistoryCandidate& candidate : candidates) {
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::Candidate;
    node->text = candidate.text;
    node->perplexity = candidate.perplexity;
    node->settings = settings;
    node->parent = run.get();
    run->children.push_back(std::move(node));
  }
  const int row = int(prefixNode->children.size());
  beginInsertRows(indexFor(prefixNode), row, row);
  Node* runNode = run.get();
  prefixNode->children.push_back(std::move(run));
  endInsertRows();
  return indexFor(runNode);
}

void HistoryModel::clear() {
  beginResetModel();
  root_->children.clear();
  endResetModel();
}

HistoryModel::Node* HistoryModel::nodeFor(const QModelIndex& index) const {
  return index.isValid() ? static_cast<Node*>(index.internalPointer()) : root_.get();
}

QModelIndex HistoryModel::indexFor(Node* node, int column) const {
  if (!node || node == root_.get()) return {};
  return createIndex(node->row(), column, node);
}

QModelIndex HistoryModel::index(int row, int column, const QModelIndex& parent) const {
  if (!hasIndex(row, column, parent)) return {};
  return createIndex(row, column, nodeFor(parent)->children[size_t(row)].get());
}

QModelIndex HistoryModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  return indexFor(nodeFor(child)->parent);
}

int HistoryModel::rowCount(const QModelIndex& parent) const {
  if (parent.column() > 0) return 0;
  return int(nodeFor(parent)->children.size());
}

int HistoryModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant HistoryModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  const Node* node = nodeFor(index);
  switch (role) {
    case Qt::DisplayRole:
      if (index.column() == PerplexityColumn) {
        return node->kind == NodeKind::Candidate ? QVariant(QString::number(node->perplexity, 'f', 1)) : QVariant();
      }
      switch (node->kind) {
        case NodeKind::Prefix: return excerpt(node->text);
        case NodeKind::Run:
          return QStringLiteral("%1  %2").arg(node->created.toString(QStringLiteral("HH:mm:ss")),
                                              node->settings.summary());
        case NodeKind::Candidate: return node->text.simplified();
      }
      return {};
    case Qt::ToolTipRole:
      return node->kind == NodeKind::Run ? node->settings.summary() : node->text;
    case KindRole: return int(node->kind);
    case FullTextRole: return node->kind == NodeKind::Run ? QVariant() : QVariant(node->text);
    case SettingsRole:
      return node->kind == NodeKind::Prefix ? QVariant() : QVariant::fromValue(node->settings);
    case PerplexityRole: return node->kind == NodeKind::Candidate ? QVariant(node->perplexity) : QVariant();
    default: return {};
  }
}

QVariant HistoryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  return section == TextColumn ? tr("Prefix / settings / candidate") : tr("Perplexity");
}
