// SPDX-License-Identifier: GPL-3.0-or-later
// The core's value types as Qt metatypes, so that they can travel through queued signals between threads,
// plus the Qt-side messages of probe training.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "dglm/error.h"
#include "dglm/generator.h"
#include "dglm/model.h"
#include "guidance/GenerationSettings.h"

Q_DECLARE_METATYPE(dglm::GenerateParams)
Q_DECLARE_METATYPE(dglm::GenerateResult)
Q_DECLARE_METATYPE(dglm::RewriteParams)
Q_DECLARE_METATYPE(dglm::ModelInfo)

// Where the model runs, as the device picker offers it: Auto takes CUDA when the core reports it available.
enum class DeviceChoice { Auto, Cpu, Cuda };
Q_DECLARE_METATYPE(DeviceChoice)
dglm::Device resolveDevice(DeviceChoice choice);

// Train a probe from the labelled rows of a CSV file and add it to the loaded model.
struct ProbeTrainingRequest {
  QString csvPath;
  QString textColumn;       // header name, or a 1-based column number
  QString labelColumn;
  QChar delimiter = QLatin1Char(',');
  bool hasHeader = true;
  QString name;
  double heldoutFraction = 0.2;  // of csvPath's rows per class, when heldoutCsvPath is empty
  QString heldoutCsvPath;        // else every row of csvPath trains and this file (same columns) measures
  QString outputPath;       // without extension: the core writes OUTPUT.json and the weights it names
};
Q_DECLARE_METATYPE(ProbeTrainingRequest)

struct ProbeTrainingResult {
  QString name;
  QStringList classes;
  qint64 trainRows = 0;
  qint64 heldoutRows = 0;
  double trainAccuracy = 0;
  double heldoutAccuracy = 0;
  QVector<QVector<qint64>> confusion;  // [true class][predicted class] over the held-out rows
};
Q_DECLARE_METATYPE(ProbeTrainingResult)

// Registers the types above; call once before connecting to a worker (WorkerHost does).
void registerCoreMetaTypes();

// Tokens a card offers in place of each of its tokens (right-click).
constexpr int kTokenAlternatives = 5;

// The request the worker runs for `prefix` with the panel's settings; each token keeps kTokenAlternatives.
dglm::GenerateParams toGenerateParams(const QString& prefix, const GenerationSettings& settings);

// What the guidance panel shows for the model's probes.
QVector<ProbeDescription> probeDescriptions(const dglm::ModelInfo& info);

// "sentiment.csv, line 3, column 5 (field 1): invalid UTF-8": the core's error with its place spelled out.
QString describeCoreError(const dglm::Error& error);
