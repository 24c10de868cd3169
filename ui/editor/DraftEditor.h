// SPDX-License-Identifier: GPL-3.0-or-later
// The text being written. The model continues from the cursor: the prefix is the selection when there is
// one, otherwise everything before the cursor.
#pragma once

#include <QPlainTextEdit>

class DraftEditor : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit DraftEditor(QWidget* parent = nullptr);

  QString prefix() const;
  // Inserts after the cursor (after the selection, which stays the prompt) as one undoable edit.
  void insertContinuation(const QString& text);
  // Puts text in place of the selection (at the cursor when nothing is selected) as one undoable edit.
  void replaceSelection(const QString& text);
};
