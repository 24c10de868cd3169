// SPDX-License-Identifier: GPL-3.0-or-later
// What the app's plots and dglm-plot share: series colours, the legend's place and writing a plot to a file.
#pragma once

#include <QColor>
#include <QString>

class QCustomPlot;

// Colour of series `index` of `count`: hues spread evenly so that the lines stay apart.
QColor seriesColour(int index, int count);
// The legend in the plot's own font, inside the top right corner of the axes.
void styleLegend(QCustomPlot* plot);
// Writes the plot to `path`, as PDF when the name ends in .pdf, else PNG, of width x height pixels (0: the
// widget's size); false when it could not.
bool savePlot(QCustomPlot* plot, const QString& path, int width = 0, int height = 0);
