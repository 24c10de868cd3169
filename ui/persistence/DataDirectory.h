// SPDX-License-Identifier: GPL-3.0-or-later
// Where the writer keeps the user's drafts, history, presets and probes: $XDG_DATA_HOME/dglm-writer (usually
// ~/.local/share/dglm-writer). Earlier versions kept them one folder deeper, in Qt's AppDataLocation, which joins
// the organisation's and the application's names, here the same word twice.
#pragma once

#include <QString>
#include <QStringList>

// The folder for the user's data; what an earlier version left in the deeper folder is moved up first (see
// moveLegacyUserData). Messages about entries that could not be moved go to *warnings.
QString userDataDirectory(QStringList* warnings);

// Moves each entry (file or folder) of `legacy` into `target` when `target` has nothing of that name, then removes
// `legacy` once it is empty. Never overwrites: an entry both folders hold stays where it is and is named in the
// result, as is one the file system refused to move. A missing `legacy` is nothing to do.
QStringList moveLegacyUserData(const QString& legacy, const QString& target);
