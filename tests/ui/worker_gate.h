// SPDX-License-Identifier: GPL-3.0-or-later
// Holds the worker's thread so that requests queue up behind each other, for tests of which request wins.
#pragma once

#include <QMetaObject>
#include <QSemaphore>
#include <memory>

#include "worker/GenerationWorker.h"
#include "worker/WorkerHost.h"

// The worker's thread waits until the returned semaphore is released.
inline std::unique_ptr<QSemaphore> holdTheWorker(WorkerHost& host) {
  auto gate = std::make_unique<QSemaphore>();
  QMetaObject::invokeMethod(host.worker(), [gate = gate.get()] { gate->acquire(); }, Qt::QueuedConnection);
  return gate;
}
