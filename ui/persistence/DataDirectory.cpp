// SPDX-License-Identifier: GPL-3.0-or-later
#include "DataDirectory.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

QStringList moveLegacyUserData(const QString& legacy, const QString& target) {
  QDir from(legacy);
  if (!from.exists()) return {};
  QStringList leftBehind;
  QDir().mkpath(target);
  const QDir to(target);
  const auto entries = from.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
  for (const QString& name : entries) {
    const QString destination = to.filePath(name);
    // A rename within one file system: each entry arrives whole or stays where it was.
    if (QFileInfo::exists(destination) || !QDir().rename(from.filePath(name), destination))
      leftBehind << from.filePath(name);
  }
  if (leftBehind.isEmpty()) QDir().rmdir(legacy);
  return leftBehind;
}

QString userDataDirectory(QStringList* warnings) {
  const QString name = QCoreApplication::applicationName();
  const QString target = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + '/' + name;
  const QString legacy = target + '/' + name;
  for (const QString& path : moveLegacyUserData(legacy, target))
    if (warnings) *warnings << QCoreApplication::translate("DataDirectory", "%1 was left where it is: %2 holds an entry "
                                                           "of that name, or it could not be moved").arg(path, target);
  return target;
}
