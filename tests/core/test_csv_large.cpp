// SPDX-License-Identifier: GPL-3.0-or-later
// A 1 GB CSV streams through read_labelled_csv with bounded memory (label `slow`: writes and reads 1 GB).
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "dglm/csv.h"

namespace dglm {
namespace {

namespace fs = std::filesystem;

long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;  // KiB on Linux
}

TEST(CsvLarge, OneGigabyteStreamsWithBoundedMemory) {
  std::string pattern = (fs::temp_directory_path() / "dglm-csv-large-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  const auto path = (dir / "large.csv").string();

  // ~1 GiB of quoted, multi-line texts, written in pieces so that the test itself stays small.
  constexpr std::size_t kTarget = std::size_t{1} << 30;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  std::fputs("text,label\n", out);
  const std::string body(180, 'a');
  std::size_t written = 0, rows = 0, long_rows = 0;
  while (written < kTarget) {
    const bool long_row = rows % 3 == 0;
    const std::string row = "\"row " + std::to_string(rows) + ", " + body + (long_row ? "\nsecond line" : "") +
                            "\"," + (rows % 2 ? "odd" : "even") + "\n";
    std::fwrite(row.data(), 1, row.size(), out);
    written += row.size();
    long_rows += long_row;
    ++rows;
  }
  std::fclose(out);

  const long before = peak_rss_mib();
  LabelledCsvOptions options;
  options.max_rows = 10000;
  int reports = 0;
  const auto result = read_labelled_csv(path, "text", "label", options, [&](float) {
    ++reports;
    return true;
  });
  const long growth = peak_rss_mib() - before;
  fs::remove_all(dir);

  EXPECT_EQ(result.rows, rows);
  EXPECT_EQ(result.class_counts.at("even"), (rows + 1) / 2);
  EXPECT_EQ(result.data.texts.size(), 10000u);
  EXPECT_GT(reports, 500);  // one per 1 MiB chunk
  // 10,000 kept rows are ~2 MB; the reader itself holds one 1 MiB chunk and one record.
  EXPECT_LT(growth, 64) << "peak RSS grew by " << growth << " MiB while reading a 1 GiB file";
}

}  // namespace
}  // namespace dglm
