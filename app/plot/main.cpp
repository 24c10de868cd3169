// SPDX-License-Identifier: GPL-3.0-or-later
// dglm-plot CSV --x COLUMN --y COLUMN[,COLUMN...] [--group COLUMN] [--title T] -o OUT.png
// Draws columns of a CSV file with a header row (e.g. `dglm eval --csv`) as lines with points, one graph per
// y column and per distinct value of the group column, and saves the chart as PNG (PDF when OUT ends in
// .pdf). Renders offscreen unless QT_QPA_PLATFORM says otherwise. Rows whose x is empty are skipped, as are
// empty y cells. Exits 1 with a message on any error.
#include <QApplication>
#include <QCommandLineParser>
#include <qcustomplot.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "dglm/csv.h"
#include "dglm/error.h"
#include "plot/PlotStyle.h"

namespace {

using dglm::Error;
using dglm::ErrorKind;
using dglm::Location;

struct Table {
  std::string path;
  std::vector<std::string> columns;  // the header row
  std::vector<dglm::CsvRecord> rows;
};

Table readTable(const std::string& path) {
  Table table{path, {}, {}};
  dglm::for_each_csv_record(path, {dglm::CsvDialect{}}, [&](const dglm::CsvRecord& record) {
    if (table.columns.empty()) table.columns = record.fields;
    else table.rows.push_back(record);
    return true;
  });
  return table;
}

std::size_t columnIndex(const Table& table, const std::string& name) {
  const auto found = std::find(table.columns.begin(), table.columns.end(), name);
  if (found != table.columns.end()) return static_cast<std::size_t>(found - table.columns.begin());
  std::string available;
  for (const auto& column : table.columns) available += (available.empty() ? "" : ", ") + column;
  throw Error(ErrorKind::NotFound, "no column '" + name + "'; the columns are: " + available,
              Location{table.path, 1});
}

double number(const Table& table, const dglm::CsvRecord& row, std::size_t column) {
  bool ok = false;
  const double value = QString::fromStdString(row.fields[column]).toDouble(&ok);
  if (!ok)
    throw Error(ErrorKind::InvalidArgument, "'" + row.fields[column] + "' is not a number",
                Location{table.path, row.line, 0, table.columns[column]});
  return value;
}

struct Series {
  QString name;
  QVector<double> x, y;
};

// One series per y column and group value (in the order the values first appear), without the empty ones.
std::vector<Series> collectSeries(const Table& table, const std::string& xName, const QStringList& yNames,
                                  const std::string& groupName) {
  const auto xColumn = columnIndex(table, xName);
  std::optional<std::size_t> groupColumn;
  std::vector<std::string> groups{""};  // without a group column: one series per y column
  if (!groupName.empty()) {
    groupColumn = columnIndex(table, groupName);
    groups.clear();
    for (const auto& row : table.rows)
      if (std::find(groups.begin(), groups.end(), row.fields[*groupColumn]) == groups.end())
        groups.push_back(row.fields[*groupColumn]);
  }

  std::vector<Series> series;
  for (const QString& yName : yNames) {
    const auto yColumn = columnIndex(table, yName.toStdString());
    for (const auto& group : groups) {
      Series s;
      s.name = yName;
      if (groupColumn) {
        const QString value = QString::fromStdString(groupName + " = " + (group.empty() ? "(empty)" : group));
        s.name = yNames.size() == 1 ? value : yName + ", " + value;
      }
      for (const auto& row : table.rows) {
        if (row.fields[xColumn].empty() || row.fields[yColumn].empty()) continue;
        if (groupColumn && row.fields[*groupColumn] != group) continue;
        s.x.append(number(table, row, xColumn));
        s.y.append(number(table, row, yColumn));
      }
      if (!s.x.isEmpty()) series.push_back(s);
    }
  }
  if (series.empty())
    throw Error(ErrorKind::InvalidArgument, "no row has numbers in both '" + xName + "' and the y columns",
                Location{table.path});
  return series;
}

void drawChart(QCustomPlot& plot, const std::vector<Series>& series, const QString& xLabel, const QString& yLabel,
               const QString& title) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    QCPGraph* graph = plot.addGraph();
    graph->setName(series[i].name);
    graph->setPen(QPen(seriesColour(int(i), int(series.size())), 2));
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    graph->setData(series[i].x, series[i].y);  // sorted by x
  }
  plot.xAxis->setLabel(xLabel);
  plot.yAxis->setLabel(yLabel);
  plot.rescaleAxes();
  plot.xAxis->scaleRange(1.1);  // room for the points at the edges
  plot.yAxis->scaleRange(1.1);
  styleLegend(&plot);
  plot.legend->setVisible(series.size() > 1);
  // Below the axes the legend never covers a curve, and rows of two keep long column names whole.
  plot.axisRect()->insetLayout()->take(plot.legend);
  plot.plotLayout()->addElement(1, 0, plot.legend);
  plot.plotLayout()->setRowStretchFactor(1, 0.001);
  plot.legend->setWrap(2);
  plot.legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);  // rearranges the items into the wrap
  if (!title.isEmpty()) {
    QFont font = plot.font();
    font.setBold(true);
    font.setPointSizeF(font.pointSizeF() * 1.2);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, title, font));
  }
}

int positiveInt(const QCommandLineParser& parser, const QString& option) {
  bool ok = false;
  const int value = parser.value(option).toInt(&ok);
  if (!ok || value <= 0)
    throw Error(ErrorKind::InvalidArgument, "'" + parser.value(option).toStdString() + "' is not a positive number",
                Location{{}, 0, 0, "--" + option.toStdString()});
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("dglm-plot"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Draws columns of a CSV file with a header row (e.g. from dglm eval --csv) as a chart saved as PNG, or as "
      "PDF when OUT ends in .pdf. Rows whose x is empty are skipped."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("CSV"), QStringLiteral("the CSV file"));
  const QString column = QStringLiteral("COLUMN"), pixels = QStringLiteral("PIXELS");
  parser.addOptions({
      {QStringLiteral("x"), QStringLiteral("column of the x axis"), column},
      {QStringLiteral("y"), QStringLiteral("columns drawn against x, comma-separated"), QStringLiteral("COLUMNS")},
      {QStringLiteral("group"), QStringLiteral("one graph per distinct value of this column"), column},
      {QStringLiteral("title"), QStringLiteral("title above the chart"), QStringLiteral("TEXT")},
      {{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("the image to write"), QStringLiteral("OUT")},
      {QStringLiteral("width"), QStringLiteral("image width in pixels (default 800)"), pixels, QStringLiteral("800")},
      {QStringLiteral("height"), QStringLiteral("image height in pixels (default 500)"), pixels, QStringLiteral("500")},
  });
  parser.process(app);  // exits 1 on unknown options

  try {
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1) throw Error(ErrorKind::InvalidArgument, "expected one CSV file");
    for (const auto& option : {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("output")})
      if (parser.value(option).isEmpty())
        throw Error(ErrorKind::InvalidArgument, "--" + option.toStdString() + " is required");
    const QStringList yNames = parser.value(QStringLiteral("y")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    const int width = positiveInt(parser, QStringLiteral("width"));
    const int height = positiveInt(parser, QStringLiteral("height"));

    const Table table = readTable(files.front().toStdString());
    const QString xName = parser.value(QStringLiteral("x"));
    const auto series =
        collectSeries(table, xName.toStdString(), yNames, parser.value(QStringLiteral("group")).toStdString());
    QCustomPlot plot;
    // With several y columns the legend names them, and a joined axis label would be cut.
    const QString yLabel = yNames.size() == 1 ? yNames.front() : QString();
    drawChart(plot, series, xName, yLabel, parser.value(QStringLiteral("title")));
    const QString output = parser.value(QStringLiteral("output"));
    if (!savePlot(&plot, output, width, height))
      throw Error(ErrorKind::Io, "cannot write the image", Location{output.toStdString()});
  } catch (const Error& e) {
    std::fprintf(stderr, "dglm-plot: %s\n", e.what());
    return 1;
  }
  return 0;
}
