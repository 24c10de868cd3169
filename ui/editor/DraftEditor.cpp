// SPDX-License-Identifier: GPL-3.0-or-later
#include "editor/DraftEditor.h"

#include <QTextCursor>

DraftEditor::DraftEditor(QWidget* parent) : QPlainTextEdit(parent) {
  setPlaceholderText(tr("Write a few sentences, place the cursor where the text should continue, and press "
                        "Ctrl+Return. Select text to use only that as the prompt."));
  setTabChangesFocus(true);
}

QString DraftEditor::prefix() const {
  const QTextCursor cursor = textCursor();
  // QTextCursor uses U+2029 between paragraphs in selections; the model expects newlines.
  if (cursor.hasSelection()) return cursor.selectedText().replace(QChar::ParagraphSeparator, QLatin1Char('\n'));
  return toPlainText().left(cursor.position());
}

void DraftEditor::insertContinuation(const QString& text) {
  QTextCursor cursor = textCursor();
  cursor.setPosition(cursor.selectionEnd());
  cursor.beginEditBlock();
  cursor.insertText(text);
  cursor.endEditBlock();
  setTextCursor(cursor);
  setFocus();
}

void DraftEditor::replaceSelection(const QString& text) {
  QTextCursor cursor = textCursor();
  cursor.beginEditBlock();
  cursor.insertText(text);  // replaces the selection
  cursor.endEditBlock();
  setTextCursor(cursor);
  setFocus();
}
