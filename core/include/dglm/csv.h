// SPDX-License-Identifier: GPL-3.0-or-later
// CSV files (RFC 4180: quoted fields with delimiters, quotes and newlines; CRLF; UTF-8 with or without BOM),
// read as a stream so that a file of any size needs memory for one record only. One reader for the CLI's
// `dglm train probe`, the app's import preview and dglm-plot. Errors name the file, the line and the field.
// Torch-free (library dglm_csv), so that Qt tools can link it without LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dglm/probe.h"

namespace dglm {

struct CsvDialect {
  char delimiter = ',';     // one of , ; TAB |
  bool has_header = true;   // the first record names the columns
};

// Guesses the dialect from the first bytes of a file: the delimiter that splits the sample's records into
// the same number (> 1) of fields most consistently, and whether the first record looks like column names.
CsvDialect detect_csv_dialect(std::string_view sample);

struct CsvOptions {
  std::optional<CsvDialect> dialect;       // empty: detect_csv_dialect on the first 64 KiB
  std::size_t max_record_bytes = 4 << 20;  // a longer record is an error (usually an unbalanced quote)
};

struct CsvRecord {
  long line = 0;  // 1-based line where the record starts (lines end at LF)
  std::vector<std::string> fields;
};

// Calls visit for every record, the header row included, in file order; visit returns false to stop.
// Checks strict quoting, UTF-8, a constant field count and the record size limit; throws Error naming the
// file and line, plus the byte column of quoting errors and the field ("field 2") of bad UTF-8.
// progress receives the fraction of bytes read; returning false throws Error(Cancelled). Returns the dialect.
CsvDialect for_each_csv_record(const std::string& path, const CsvOptions& options,
                               const std::function<bool(const CsvRecord&)>& visit,
                               const ProgressFn& progress = {});

struct CsvPreview {
  CsvDialect dialect;
  std::vector<std::string> columns;  // the header row, or "1", "2", ... without one
  std::vector<CsvRecord> records;    // the first data records
  bool complete = false;             // true when the file has no more records than these
};

// The first max_records data records; reads no further than it needs.
CsvPreview preview_csv(const std::string& path, std::size_t max_records, const CsvOptions& options = {});

// One record as CSV text ending in LF: fields holding the delimiter, a quote, CR or LF, or starting or ending
// with a space, are quoted, with quotes doubled; the others are written as they are.
std::string csv_record(const std::vector<std::string>& fields, char delimiter = ',');

struct LabelledCsvOptions {
  CsvOptions csv;
  std::vector<std::string> allowed_labels;  // non-empty: any other label is an error
  std::size_t max_rows = 0;                 // 0: keep every row; else a uniform random sample of this many
  std::uint64_t seed = 0;                   // of that sample
};

struct LabelledCsv {
  LabelledTexts data;
  std::size_t rows = 0;                             // data rows in the file (all of them, even when sampled)
  std::map<std::string, std::size_t> class_counts;  // over all rows
  CsvDialect dialect;
};

// Reads (text, label) rows for probe training. Columns are header names, or 1-based numbers ("2") for files
// with or without a header. Throws Error naming file and line for: an empty file, a missing column, empty
// texts or labels, labels outside allowed_labels, fewer than two classes, and everything for_each_csv_record
// rejects.
LabelledCsv read_labelled_csv(const std::string& path, const std::string& text_column,
                              const std::string& label_column, const LabelledCsvOptions& options = {},
                              const ProgressFn& progress = {});

// Reads the rows that measure a probe trained on `training`, with the same columns: a label `training` lacks
// is an error naming this file's line (the probe could never predict it).
LabelledCsv read_heldout_csv(const std::string& path, const std::string& text_column, const std::string& label_column,
                             const LabelledCsv& training, const CsvOptions& options = {},
                             const ProgressFn& progress = {});

}  // namespace dglm
