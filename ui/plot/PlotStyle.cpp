// SPDX-License-Identifier: GPL-3.0-or-later
#include "plot/PlotStyle.h"

#include <qcustomplot.h>

QColor seriesColour(int index, int count) {
  return QColor::fromHsv((index * 360 / qMax(count, 1) + 210) % 360, 200, 200);
}

void styleLegend(QCustomPlot* plot) {
  plot->legend->setFont(plot->font());
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

bool savePlot(QCustomPlot* plot, const QString& path, int width, int height) {
  if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)) return plot->savePdf(path, width, height);
  return plot->savePng(path, width, height);
}
