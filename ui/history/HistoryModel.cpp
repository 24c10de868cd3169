// SPDX-License-Identifier: GPL-3.0-or-later
#include "history/HistoryModel.h"

#include <QJsonObject>

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
  QString text;  // prefix or candidate text; a run's note
  GenerationSettings settings;
  double perplexity = 0;
  QDateTime created;
  QJsonObject json;  // a run as the history file keeps it (made when added, as read when restored): saving a
                     // long history stays cheap
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

HistoryModel::Node* HistoryModel::appendPrefix(Node* root, const QString& prefix, const QDateTime& created) {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::Prefix;
  node->text = prefix;
  node->created = created;
  node->parent = root;
  root->children.push_back(std::move(node));
  return root->children.back().get();
}

HistoryModel::Node* HistoryModel::appendRun(Node* prefix, const GenerationSettings& settings,
                                            const QVector<HistoryCandidate>& candidates, const QString& note,
                                            const QDateTime& created, const QJsonObject& json) {
  auto run = std::make_unique<Node>();
  run->kind = NodeKind::Run;
  run->text = note;
  run->settings = settings;
  run->created = created;
  run->parent = prefix;
  run->json = json;
  for (const HistoryCandidate& candidate : candidates) {
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::Candidate;
    node->text = candidate.text;
    node->perplexity = candidate.perplexity;
    node->settings = settings;
    node->parent = run.get();
    run->children.push_back(std::move(node));
  }
  prefix->children.push_back(std::move(run));
  return prefix->children.back().get();
}

QModelIndex HistoryModel::addRun(const QString& prefix, const GenerationSettings& settings,
                                 const QVector<HistoryCandidate>& candidates, const QString& note) {
  const QDateTime now = QDateTime::currentDateTime();
  Node* prefixNode = nullptr;
  for (const auto& child : root_->children) {
    if (child->text == prefix) prefixNode = child.get();
  }
  if (!prefixNode) {
    const int row = int(root_->children.size());
    beginInsertRows({}, row, row);
    prefixNode = appendPrefix(root_.get(), prefix, now);
    endInsertRows();
  }
  // The run arrives with its candidates as one row, so views see a complete subtree.
  const int row = int(prefixNode->children.size());
  beginInsertRows(indexFor(prefixNode), row, row);
  QJsonArray candidatesJson;
  for (const HistoryCandidate& candidate : candidates)
    candidatesJson.append(QJsonObject{{"text", candidate.text}, {"perplexity", candidate.perplexity}});
  QJsonObject json{{"created", now.toString(Qt::ISODateWithMs)},
                   {"settings", settings.toJson()},
                   {"candidates", candidatesJson}};
  if (!note.isEmpty()) json.insert("note", note);
  Node* runNode = appendRun(prefixNode, settings, candidates, note, now, json);
  endInsertRows();
  return indexFor(runNode);
}

void HistoryModel::clear() {
  beginResetModel();
  root_->children.clear();
  endResetModel();
}

QJsonArray HistoryModel::toJson() const {
  QJsonArray prefixes;
  for (const auto& prefix : root_->children) {
    QJsonArray runs;
    for (const auto& run : prefix->children) runs.append(run->json);
    prefixes.append(QJsonObject{
        {"prefix", prefix->text}, {"created", prefix->created.toString(Qt::ISODateWithMs)}, {"runs", runs}});
  }
  return prefixes;
}

bool HistoryModel::restore(const QJsonArray& json) {
  // Built aside and swapped in, so that a malformed entry halfway through leaves the model untouched.
  auto root = std::make_unique<Node>();
  for (const QJsonValue& prefixValue : json) {
    const QJsonObject prefixObject = prefixValue.toObject();
    if (!prefixObject.value("prefix").isString() || !prefixObject.value("runs").isArray()) return false;
    Node* prefix = appendPrefix(root.get(), prefixObject.value("prefix").toString(),
                                QDateTime::fromString(prefixObject.value("created").toString(), Qt::ISODateWithMs));
    for (const QJsonValue& runValue : prefixObject.value("runs").toArray()) {
      const QJsonObject runObject = runValue.toObject();
      if (!runObject.value("settings").isObject() || !runObject.value("candidates").isArray()) return false;
      QVector<HistoryCandidate> candidates;
      for (const QJsonValue& candidateValue : runObject.value("candidates").toArray()) {
        const QJsonObject candidate = candidateValue.toObject();
        if (!candidate.value("text").isString()) return false;
        // toDouble: an infinite perplexity was written as null; it comes back as 0 ("not measured").
        candidates.append({candidate.value("text").toString(), candidate.value("perplexity").toDouble()});
      }
      appendRun(prefix, GenerationSettings::fromJson(runObject.value("settings").toObject()), candidates,
                runObject.value("note").toString(),
                QDateTime::fromString(runObject.value("created").toString(), Qt::ISODateWithMs), runObject);
    }
  }
  beginResetModel();
  root_ = std::move(root);
  endResetModel();
  return true;
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
  const auto runSummary = [node] {  // a run's settings, then its note when it has one
    const QString settings = node->settings.summary();
    return node->text.isEmpty() ? settings : settings + QStringLiteral(" · ") + node->text;
  };
  switch (role) {
    case Qt::DisplayRole:
      if (index.column() == PerplexityColumn) {
        return node->kind == NodeKind::Candidate ? QVariant(QString::number(node->perplexity, 'f', 1)) : QVariant();
      }
      switch (node->kind) {
        case NodeKind::Prefix: return excerpt(node->text);
        case NodeKind::Run:
          return QStringLiteral("%1  %2").arg(node->created.toString(QStringLiteral("HH:mm:ss")), runSummary());
        case NodeKind::Candidate: return node->text.simplified();
      }
      return {};
    case Qt::ToolTipRole:
      return node->kind == NodeKind::Run ? runSummary() : node->text;
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
