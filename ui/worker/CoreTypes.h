// SPDX-License-Identifier: GPL-3.0-or-later
// The core's value types as Qt metatypes, so that they can travel through queued signals between threads.
#pragma once

#include <QMetaType>
#include <QString>

#include "dglm/generator.h"
#include "dglm/model.h"
#include "guidance/GenerationSettings.h"

Q_DECLARE_METATYPE(dglm::GenerateParams)
Q_DECLARE_METATYPE(dglm::GenerateResult)
Q_DECLARE_METATYPE(dglm::ModelInfo)

// Registers the types above; call once before connecting to a worker (WorkerHost does).
void registerCoreMetaTypes();

// The request the worker runs for `prefix` with the panel's settings.
dglm::GenerateParams toGenerateParams(const QString& prefix, const GenerationSettings& settings);

// What the guidance panel shows for the model's probes.
QVector<ProbeDescription> probeDescriptions(const dglm::ModelInfo& info);
