// SPDX-License-Identifier: GPL-3.0-or-later
// CSV reading on top of libcsv (Debian's libcsv-dev): libcsv does the RFC 4180 state machine, this file adds
// chunked streaming, line numbers, dialect detection, UTF-8 and shape checks, the labelled-text reader, and
// writing records with RFC 4180 quoting.
#include "dglm/csv.h"

#include <csv.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <tuple>

#include "dglm/error.h"

namespace dglm {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;
constexpr std::size_t kSniffBytes = 64 << 10;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// libcsv with its C callbacks collecting into C++ containers. Nothing is thrown from the callbacks (they run
// inside C code); the caller inspects `completed` after each feed().
class CsvParser {
 public:
  CsvParser(char delimiter, bool strict) {
    if (csv_init(&parser_, strict ? (CSV_STRICT | CSV_STRICT_FINI) : 0) != 0)
      throw Error(ErrorKind::Internal, "libcsv could not allocate its parser");
    csv_set_delim(&parser_, static_cast<unsigned char>(delimiter));
    // libcsv trims spaces and tabs around unquoted fields by default; tabs may be the delimiter or text.
    csv_set_space_func(&parser_, [](unsigned char c) { return c == ' ' ? 1 : 0; });
  }
  ~CsvParser() { csv_free(&parser_); }
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;

  // Returns how many bytes were accepted; fewer than `size` means a quoting error at that offset.
  std::size_t feed(const char* data, std::size_t size) {
    return csv_parse(&parser_, data, size, on_field, on_record, this);
  }
  // Ends the last record; false when a quoted field is still open.
  bool finish() { return csv_fini(&parser_, on_field, on_record, this) == 0; }

  // Bytes of the record being read: its finished fields plus the field libcsv is still buffering.
  std::size_t open_record_bytes() const { return open_bytes_ + parser_.entry_pos; }

  std::vector<std::vector<std::string>> completed;

 private:
  static void on_field(void* data, std::size_t size, void* self) {
    auto& me = *static_cast<CsvParser*>(self);
    me.open_.emplace_back(static_cast<const char*>(data), size);
    me.open_bytes_ += size;
  }
  static void on_record(int, void* self) {
    auto& me = *static_cast<CsvParser*>(self);
    me.completed.push_back(std::move(me.open_));
    me.open_.clear();
    me.open_bytes_ = 0;
  }

  csv_parser parser_{};
  std::vector<std::string> open_;
  std::size_t open_bytes_ = 0;
};

// Offset of the first byte that is not well-formed UTF-8 (overlong forms, surrogates and code points above
// U+10FFFF included), or npos.
std::size_t invalid_utf8_offset(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) length = 2;
    else if (c == 0xE0) length = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) length = 3;
    else if (c == 0xED) length = 3, hi = 0x9F;  // no UTF-16 surrogates
    else if (c >= 0xEE && c <= 0xEF) length = 3;
    else if (c == 0xF0) length = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) length = 4;
    else if (c == 0xF4) length = 4, hi = 0x8F;  // nothing above U+10FFFF
    else return i;
    if (i + length > n || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (std::size_t k = 2; k < length; ++k)
      if (b[i + k] < 0x80 || b[i + k] > 0xBF) return i;
    i += length;
  }
  return std::string_view::npos;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool is_identifier_like(const std::string& s) {
  return s.size() <= 32 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '-' || c == '.';
         });
}

// A header row has distinct, non-empty, non-numeric names. Evidence for one: a column that is numeric in the
// data but not in the first row, or a column of repeating values (labels) that never repeats the first row's
// value. Without evidence either way, short identifier-like names count as a header.
bool looks_like_header(const std::vector<std::vector<std::string>>& records) {
  if (records.empty()) return false;
  const auto& first = records.front();
  std::set<std::string> distinct;
  for (const auto& name : first)
    if (name.empty() || is_number(name) || !distinct.insert(name).second) return false;
  int votes = 0;
  for (std::size_t col = 0; col < first.size(); ++col) {
    std::set<std::string> values;
    bool numeric = records.size() > 1;
    for (std::size_t r = 1; r < records.size(); ++r) {
      if (col >= records[r].size()) continue;
      values.insert(records[r][col]);
      numeric = numeric && is_number(records[r][col]);
    }
    const std::size_t data_rows = records.size() - 1;
    if (numeric) ++votes;
    else if (data_rows >= 2 && values.size() < data_rows) votes += values.count(first[col]) ? -1 : 1;
  }
  if (votes != 0) return votes > 0;
  return std::all_of(first.begin(), first.end(), is_identifier_like);
}

std::string_view without_bom(std::string_view bytes) {
  return bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom ? bytes.substr(kUtf8Bom.size()) : bytes;
}

std::ifstream open_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const bool exists = std::filesystem::exists(path);
    throw Error(exists ? ErrorKind::Io : ErrorKind::NotFound, exists ? "cannot read the file" : "no such file",
                Location{path});
  }
  return in;
}

std::size_t read_chunk(std::ifstream& in, std::vector<char>& chunk, const std::string& path) {
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  if (in.bad()) throw Error(ErrorKind::Io, "read failed", Location{path});
  return static_cast<std::size_t>(in.gcount());
}

CsvDialect sniff_dialect(const std::string& path) {
  auto in = open_input(path);
  std::vector<char> sample(kSniffBytes + kUtf8Bom.size());
  const auto size = read_chunk(in, sample, path);
  return detect_csv_dialect(without_bom({sample.data(), size}));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Streams one file through libcsv, splitting the input at LFs so that every record gets its starting line.
class RecordStream {
 public:
  RecordStream(const std::string& path, const CsvOptions& options, const CsvDialect& dialect,
               const std::function<bool(const CsvRecord&)>& visit, const ProgressFn& progress)
      : path_(path), options_(options), parser_(dialect.delimiter, true), visit_(visit), progress_(progress) {}

  void run() {
    auto in = open_input(path_);
    std::error_code ignored;
    const auto total = static_cast<double>(std::max<std::uintmax_t>(1, std::filesystem::file_size(path_, ignored)));
    std::vector<char> chunk(kChunkBytes);
    std::uintmax_t done = 0;
    for (bool first = true;; first = false) {
      const auto size = read_chunk(in, chunk, path_);
      if (size == 0) break;
      std::string_view bytes(chunk.data(), size);
      if (first) bytes = without_bom(bytes);
      while (!bytes.empty() && !stopped_) {
        const auto lf = bytes.find('\n');
        const auto segment = bytes.substr(0, lf == std::string_view::npos ? bytes.size() : lf + 1);
        feed(segment);
        bytes.remove_prefix(segment.size());
      }
      done += size;
      if (stopped_) return;
      if (progress_ && !progress_(static_cast<float>(static_cast<double>(done) / total)))
        throw Error(ErrorKind::Cancelled, "reading cancelled", Location{path_});
    }
    if (!parser_.finish())
      throw Error(ErrorKind::Corrupt, "unterminated quoted field: a quote opened in this record is never closed",
                  Location{path_, record_line_});
    deliver();
    if (records_ == 0) throw Error(ErrorKind::InvalidArgument, "the file is empty", Location{path_, 1});
  }

 private:
  void feed(std::string_view segment) {
    const bool has_content = segment.find_first_not_of(" \r\n") != std::string_view::npos;
    if (!record_open_ && has_content) {
      record_open_ = true;
      record_line_ = line_;
    }
    const auto accepted = parser_.feed(segment.data(), segment.size());
    if (accepted < segment.size())
      throw Error(ErrorKind::Corrupt,
                  "malformed quoting: a quote inside an unquoted field, or text after a closing quote "
                  "(write a literal quote as \"\" inside a quoted field)",
                  Location{path_, line_, static_cast<long>(line_bytes_ + accepted + 1)});
    deliver();
    if (parser_.open_record_bytes() > options_.max_record_bytes)
      throw Error(ErrorKind::Corrupt, "record longer than " + std::to_string(options_.max_record_bytes) +
                                          " bytes: probably a quote that is never closed",
                  Location{path_, record_line_});
    if (segment.back() == '\n') {
      ++line_;
      line_bytes_ = 0;
    } else {
      line_bytes_ += segment.size();
    }
  }

  void deliver() {
    for (auto& fields : parser_.completed) {
      if (stopped_) break;
      CsvRecord record{record_open_ ? record_line_ : line_, std::move(fields)};
      record_open_ = false;
      check(record);
      ++records_;
      if (!visit_(record)) stopped_ = true;
    }
    parser_.completed.clear();
  }

  void check(const CsvRecord& record) {
    long newlines_before = 0;  // fields may span lines: count them to name the line of a bad byte
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
      const auto& field = record.fields[i];
      const auto bad = invalid_utf8_offset(field);
      if (bad != std::string_view::npos) {
        const auto line = record.line + newlines_before + std::count(field.begin(), field.begin() + bad, '\n');
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(field[bad]));
        throw Error(ErrorKind::Corrupt, std::string("invalid UTF-8 (byte ") + byte + "): save the file as UTF-8",
                    Location{path_, static_cast<long>(line), 0, "field " + std::to_string(i + 1)});
      }
      newlines_before += std::count(field.begin(), field.end(), '\n');
    }
    if (records_ == 0) {
      fields_ = record.fields.size();
    } else if (record.fields.size() != fields_) {
      throw Error(ErrorKind::Corrupt, "ragged row: " + std::to_string(record.fields.size()) +
                                          " fields where the first row has " + std::to_string(fields_),
                  Location{path_, record.line});
    }
  }

  const std::string& path_;
  const CsvOptions& options_;
  CsvParser parser_;
  const std::function<bool(const CsvRecord&)>& visit_;
  const ProgressFn& progress_;
  long line_ = 1;
  std::size_t line_bytes_ = 0;  // bytes of the current line already fed (a line may span chunks)
  bool record_open_ = false;
  long record_line_ = 1;
  std::size_t records_ = 0;
  std::size_t fields_ = 0;
  bool stopped_ = false;
};

// A column given by header name or by 1-based number.
std::optional<std::size_t> find_column(const std::string& spec, const std::vector<std::string>& header) {
  if (const auto it = std::find(header.begin(), header.end(), spec); it != header.end())
    return static_cast<std::size_t>(it - header.begin());
  return std::nullopt;
}

std::optional<std::size_t> column_number(const std::string& spec, std::size_t columns) {
  if (spec.empty() || !std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  const auto number = std::strtoul(spec.c_str(), nullptr, 10);
  if (number < 1 || number > columns) return std::nullopt;
  return number - 1;
}

}  // namespace

CsvDialect detect_csv_dialect(std::string_view sample) {
  sample = without_bom(sample);
  CsvDialect best;
  double best_consistency = 0;
  std::vector<std::vector<std::string>> best_records;
  for (const char delimiter : {',', '\t', ';', '|'}) {
    CsvParser parser(delimiter, false);
    parser.feed(sample.data(), sample.size());
    // The sample usually ends inside a record: that one is left out unless it is the only one.
    if (parser.completed.empty()) parser.finish();
    auto& records = parser.completed;
    if (records.empty()) continue;
    std::map<std::size_t, std::size_t> by_count;
    for (const auto& r : records) ++by_count[r.size()];
    const auto mode = std::max_element(by_count.begin(), by_count.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    if (mode->first < 2) continue;
    const double consistency = static_cast<double>(mode->second) / static_cast<double>(records.size());
    if (consistency > best_consistency) {
      best_consistency = consistency;
      best.delimiter = delimiter;
      best_records = std::move(records);
    }
  }
  if (best_records.empty()) {  // one column: no delimiter splits anything
    CsvParser parser(',', false);
    parser.feed(sample.data(), sample.size());
    parser.finish();
    best_records = std::move(parser.completed);
  }
  best.has_header = looks_like_header(best_records);
  return best;
}

CsvDialect for_each_csv_record(const std::string& path, const CsvOptions& options,
                               const std::function<bool(const CsvRecord&)>& visit, const ProgressFn& progress) {
  const auto dialect = options.dialect ? *options.dialect : sniff_dialect(path);
  RecordStream(path, options, dialect, visit, progress).run();
  return dialect;
}

CsvPreview preview_csv(const std::string& path, std::size_t max_records, const CsvOptions& options) {
  CsvPreview preview;
  preview.dialect = options.dialect ? *options.dialect : sniff_dialect(path);
  CsvOptions fixed = options;
  fixed.dialect = preview.dialect;
  preview.complete = true;
  bool first = true;
  for_each_csv_record(path, fixed, [&](const CsvRecord& record) {
    if (first) {
      first = false;
      for (std::size_t i = 0; i < record.fields.size(); ++i)
        preview.columns.push_back(preview.dialect.has_header ? record.fields[i] : std::to_string(i + 1));
      if (preview.dialect.has_header) return true;
    }
    if (preview.records.size() == max_records) {
      preview.complete = false;
      return false;
    }
    preview.records.push_back(record);
    return true;
  });
  return preview;
}

std::string csv_record(const std::vector<std::string>& fields, char delimiter) {
  const char special[] = {delimiter, '"', '\r', '\n', '\0'};
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += delimiter;
    const auto& field = fields[i];
    const bool padded = !field.empty() && (field.front() == ' ' || field.back() == ' ');  // readers trim these
    if (!padded && field.find_first_of(special) == std::string::npos) {
      out += field;
      continue;
    }
    out += '"';
    for (const char c : field) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out + '\n';
}

LabelledCsv read_labelled_csv(const std::string& path, const std::string& text_column,
                              const std::string& label_column, const LabelledCsvOptions& options,
                              const ProgressFn& progress) {
  if (text_column == label_column)
    throw Error(ErrorKind::InvalidArgument, "the text and label columns must differ", Location{path, 0, 0, text_column});
  LabelledCsv out;
  out.dialect = options.csv.dialect ? *options.csv.dialect : sniff_dialect(path);
  CsvOptions csv = options.csv;
  csv.dialect = out.dialect;
  const std::set<std::string> allowed(options.allowed_labels.begin(), options.allowed_labels.end());
  std::mt19937_64 rng(options.seed);
  std::size_t text_index = 0, label_index = 0;
  bool resolved = false;
  long first_data_line = 0, last_line = 0;

  // Names are looked up in the first row (making it a header); numbers work with or without one.
  auto resolve = [&](const CsvRecord& first) {
    const auto text_by_name = find_column(text_column, first.fields);
    const auto label_by_name = find_column(label_column, first.fields);
    const bool header = text_by_name || label_by_name || csv.dialect->has_header;
    for (const auto& [spec, by_name, index] :
         {std::tuple{text_column, text_by_name, &text_index}, std::tuple{label_column, label_by_name, &label_index}}) {
      const auto found = by_name ? by_name : column_number(spec, first.fields.size());
      if (!found)
        throw Error(ErrorKind::NotFound,
                    "no column '" + spec + "'; " +
                        (header ? "the header has: " + join(first.fields)
                                : "columns are 1.." + std::to_string(first.fields.size())),
                    Location{path, first.line, 0, spec});
      *index = *found;
    }
    return header;
  };

  for_each_csv_record(path, csv, [&](const CsvRecord& record) {
    if (!resolved) {
      resolved = true;
      out.dialect.has_header = resolve(record);
      if (out.dialect.has_header) return true;
    }
    if (first_data_line == 0) first_data_line = record.line;
    last_line = record.line;
    const auto& text = record.fields[text_index];
    const auto& label = record.fields[label_index];
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error(ErrorKind::InvalidArgument, "empty text", Location{path, record.line, 0, text_column});
    if (label.empty()) throw Error(ErrorKind::InvalidArgument, "empty label", Location{path, record.line, 0, label_column});
    if (!allowed.empty() && !allowed.count(label))
      throw Error(ErrorKind::InvalidArgument,
                  "unknown label '" + label + "' (allowed: " + join(options.allowed_labels) + ")",
                  Location{path, record.line, 0, label_column});
    ++out.class_counts[label];
    ++out.rows;
    auto& data = out.data;
    if (options.max_rows == 0 || data.texts.size() < options.max_rows) {
      data.texts.push_back(text);
      data.labels.push_back(label);
    } else {  // reservoir sampling: every row ends up in the sample with the same probability
      const auto slot = std::uniform_int_distribution<std::size_t>(0, out.rows - 1)(rng);
      if (slot < options.max_rows) {
        data.texts[slot] = text;
        data.labels[slot] = label;
      }
    }
    return true;
  }, progress);

  if (out.rows == 0)
    throw Error(ErrorKind::InvalidArgument, "the file has a header but no data rows", Location{path, 1});
  if (out.class_counts.size() < 2)
    throw Error(ErrorKind::InvalidArgument,
                "one class only: all " + std::to_string(out.rows) + " rows (lines " + std::to_string(first_data_line) +
                    "-" + std::to_string(last_line) + ") are labelled '" + out.class_counts.begin()->first +
                    "'; a probe needs at least two classes",
                Location{path, first_data_line, 0, label_column});
  return out;
}

LabelledCsv read_heldout_csv(const std::string& path, const std::string& text_column, const std::string& label_column,
                             const LabelledCsv& training, const CsvOptions& options, const ProgressFn& progress) {
  LabelledCsvOptions heldout;
  heldout.csv = options;
  for (const auto& [label, count] : training.class_counts) heldout.allowed_labels.push_back(label);
  return read_labelled_csv(path, text_column, label_column, heldout, progress);
}

}  // namespace dglm
