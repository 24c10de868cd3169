// SPDX-License-Identifier: GPL-3.0-or-later
// Every generation is kept, never replaced: a tree of prefix -> settings of one run -> its K candidates.
#pragma once

#include <QAbstractItemModel>
#include <QDateTime>
#include <QJsonArray>
#include <QVector>
#include <memory>
#include <vector>

#include "guidance/GenerationSettings.h"

struct HistoryCandidate {
  QString text;
  double perplexity = 0;
};

class HistoryModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column { TextColumn, PerplexityColumn, ColumnCount };
  enum class NodeKind { Prefix, Run, Candidate };
  enum Role {
    KindRole = Qt::UserRole + 1,  // NodeKind as int
    FullTextRole,                 // the whole prefix or candidate text (DisplayRole shows an excerpt)
    SettingsRole,                 // GenerationSettings of a run (on run and candidate rows)
    PerplexityRole,               // double, candidates only
  };

  explicit HistoryModel(QObject* parent = nullptr);
  ~HistoryModel() override;

  // Appends one run under the row of `prefix` (created when new); returns the run's index. `note` says how a
  // run that is not a plain generation came about (shown after its settings).
  QModelIndex addRun(const QString& prefix, const GenerationSettings& settings,
                     const QVector<HistoryCandidate>& candidates, const QString& note = {});
  void clear();

  // The whole tree as [{prefix, created, runs: [{created, settings, note (when set), candidates: [{text,
  // perplexity}]}]}]: what the history file keeps and what exports are written from.
  QJsonArray toJson() const;
  // Replaces the tree with one written by toJson, as one model reset. Returns false and keeps the tree as it
  // was when `json` is not of that shape.
  bool restore(const QJsonArray& json);

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Node;
  static Node* appendPrefix(Node* root, const QString& prefix, const QDateTime& created);
  // `json`: the run as the history file keeps it.
  static Node* appendRun(Node* prefix, const GenerationSettings& settings, const QVector<HistoryCandidate>& candidates,
                         const QString& note, const QDateTime& created, const QJsonObject& json);
  Node* nodeFor(const QModelIndex& index) const;
  QModelIndex indexFor(Node* node, int column = 0) const;

  std::unique_ptr<Node> root_;
};
