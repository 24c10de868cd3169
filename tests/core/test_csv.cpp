// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dglm/csv.h"
#include "dglm/error.h"

namespace dglm {
namespace {

namespace fs = std::filesystem;

class Csv : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dglm-csv-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::vector<CsvRecord> records(const std::string& bytes, CsvOptions options = {}) {
    std::vector<CsvRecord> out;
    for_each_csv_record(write("records.csv", bytes), options, [&](const CsvRecord& r) {
      out.push_back(r);
      return true;
    });
    return out;
  }

  fs::path dir_;
};

using Fields = std::vector<std::string>;

TEST_F(Csv, QuotedFieldsKeepCommasNewlinesAndQuotesAndRecordsKnowTheirLine) {
  const auto rows = records(
      "text,label\n"
      "\"Hello, world\",greeting\n"
      "\"line one\nline two\nline three\",multi\n"
      "\n"
      "\"she said \"\"hi\"\"\",quote\n"
      "plain,last");  // no final newline
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].fields, (Fields{"text", "label"}));
  EXPECT_EQ(rows[1].fields, (Fields{"Hello, world", "greeting"}));
  EXPECT_EQ(rows[2].fields, (Fields{"line one\nline two\nline three", "multi"}));
  EXPECT_EQ(rows[3].fields, (Fields{"she said \"hi\"", "quote"}));
  EXPECT_EQ(rows[4].fields, (Fields{"plain", "last"}));
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].line, 3);
  EXPECT_EQ(rows[3].line, 7);  // the blank line 6 is skipped
  EXPECT_EQ(rows[4].line, 8);
}

TEST_F(Csv, CrlfAndByteOrderMarkAreInvisible) {
  const auto rows = records("\xEF\xBB\xBFtext,label\r\n\"a\r\nb\",x\r\nc,y\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"text", "label"}));  // no BOM glued to the first name
  EXPECT_EQ(rows[1].fields, (Fields{"a\r\nb", "x"}));    // line breaks inside quotes are kept verbatim
  EXPECT_EQ(rows[2].fields, (Fields{"c", "y"}));
  EXPECT_EQ(rows[2].line, 4);
}

TEST_F(Csv, SpacesAroundUnquotedFieldsAreTrimmedButTabsInsideTextStay) {
  const auto rows = records("a , b\nx\ty ,  \"q\"\n", CsvOptions{CsvDialect{',', false}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"x\ty", "q"}));
}

TEST_F(Csv, RecordsLongerThanAChunkStreamThrough) {
  const std::string big(3 << 20, 'w');  // spans several 1 MiB read chunks
  const auto rows = records("text,label\n\"" + big + "\",long\nshort,x\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields[0], big);
  EXPECT_EQ(rows[2].line, 3);
}

TEST(CsvDialect, DetectsTheDelimiterEvenWithQuotedDelimitersInText) {
  EXPECT_EQ(detect_csv_dialect("text,label\n\"a; b; c\",x\n\"d;e\",y\n").delimiter, ',');
  EXPECT_EQ(detect_csv_dialect("text;label\n\"a, b, c\";x\nd, e;y\n").delimiter, ';');
  EXPECT_EQ(detect_csv_dialect("text\tlabel\na, b\tx\nc; d\ty\n").delimiter, '\t');
  EXPECT_EQ(detect_csv_dialect("text|label\na, b|x\nc|y\n").delimiter, '|');
  // The last sampled record is usually cut off by the sample's end: it must not decide anything.
  EXPECT_EQ(detect_csv_dialect("a,b\nc,d\ne,f\n\"g;h;i;j").delimiter, ',');
}

TEST(CsvDialect, DetectsWhetherTheFirstRowIsAHeader) {
  EXPECT_TRUE(detect_csv_dialect("text,label\ngood film,pos\nbad film,neg\nfine film,pos\n").has_header);
  EXPECT_FALSE(detect_csv_dialect("good film,pos\nbad film,neg\nfine film,pos\n").has_header);
  EXPECT_TRUE(detect_csv_dialect("name,score\nann,3\nbob,4\n").has_header);
  EXPECT_FALSE(detect_csv_dialect("ann,3\nbob,4\n").has_header);
  EXPECT_FALSE(detect_csv_dialect("text,text\na,b\n").has_header);  // duplicate names
}

TEST_F(Csv, PreviewStopsAfterNRecordsAndSaysWhetherItSawEverything) {
  const auto path = write("p.csv", "text;label\na;x\nb;y\nc;x\n");
  const auto two = preview_csv(path, 2);
  EXPECT_EQ(two.dialect.delimiter, ';');
  EXPECT_EQ(two.columns, (Fields{"text", "label"}));
  ASSERT_EQ(two.records.size(), 2u);
  EXPECT_EQ(two.records[1].fields, (Fields{"b", "y"}));
  EXPECT_EQ(two.records[1].line, 3);
  EXPECT_FALSE(two.complete);
  const auto all = preview_csv(path, 3);
  EXPECT_EQ(all.records.size(), 3u);
  EXPECT_TRUE(all.complete);

  const auto headerless = preview_csv(write("h.csv", "I liked it a lot,pos\nI hated it,neg\nGreat stuff,pos\n"), 10);
  EXPECT_EQ(headerless.columns, (Fields{"1", "2"}));
  EXPECT_EQ(headerless.records.size(), 3u);
}

TEST_F(Csv, LabelledRowsByNameOrNumber) {
  const auto path = write("l.csv", "id,text,label\n1,\"good, really\",pos\n2,bad,neg\n3,fine,pos\n");
  const auto by_name = read_labelled_csv(path, "text", "label");
  EXPECT_EQ(by_name.data.texts, (Fields{"good, really", "bad", "fine"}));
  EXPECT_EQ(by_name.data.labels, (Fields{"pos", "neg", "pos"}));
  EXPECT_EQ(by_name.rows, 3u);
  EXPECT_EQ(by_name.class_counts.at("pos"), 2u);
  EXPECT_TRUE(by_name.dialect.has_header);
  const auto by_number = read_labelled_csv(path, "2", "3");
  EXPECT_EQ(by_number.data.texts, by_name.data.texts);

  const auto headerless = write("n.csv", "I liked it a lot,pos\nI hated it,neg\n");
  const auto rows = read_labelled_csv(headerless, "1", "2");
  EXPECT_EQ(rows.data.texts, (Fields{"I liked it a lot", "I hated it"}));
  EXPECT_FALSE(rows.dialect.has_header);
}

TEST_F(Csv, AllowedLabelsAcceptKnownOnes) {
  LabelledCsvOptions options;
  options.allowed_labels = {"neg", "pos"};
  EXPECT_EQ(read_labelled_csv(write("a.csv", "text,label\na,pos\nb,neg\n"), "text", "label", options).rows, 2u);
}

TEST_F(Csv, HeldOutRowsMayUseOnlyTheTrainingClasses) {
  const auto training = read_labelled_csv(write("train.csv", "text,label\na,pos\nb,neg\nc,pos\n"), "text", "label");
  const auto heldout = read_heldout_csv(write("ok.csv", "text,label\nd,neg\ne,pos\n"), "text", "label", training);
  EXPECT_EQ(heldout.data.labels, (Fields{"neg", "pos"}));

  const auto unknown = write("unknown.csv", "text,label\nd,neg\ne,pos\nf,meh\n");
  try {
    read_heldout_csv(unknown, "text", "label", training);
    FAIL() << "a class the probe never saw was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, unknown);
    EXPECT_EQ(e.where().line, 4);
    EXPECT_NE(std::string(e.what()).find("unknown label 'meh' (allowed: neg, pos)"), std::string::npos) << e.what();
  }
}

TEST_F(Csv, MaxRowsKeepsAUniformSeededSampleAndCountsEveryRow) {
  std::string bytes = "text,label\n";
  for (int i = 0; i < 1000; ++i) bytes += "row " + std::to_string(i) + "," + (i % 2 ? "odd" : "even") + "\n";
  const auto path = write("s.csv", bytes);
  LabelledCsvOptions options;
  options.max_rows = 100;
  options.seed = 7;
  const auto sample = read_labelled_csv(path, "text", "label", options);
  EXPECT_EQ(sample.rows, 1000u);
  EXPECT_EQ(sample.class_counts.at("odd"), 500u);
  ASSERT_EQ(sample.data.texts.size(), 100u);
  // Uniform over the file, not the first 100 rows.
  int late = 0;
  for (const auto& text : sample.data.texts) late += std::stoi(text.substr(4)) >= 500;
  EXPECT_GT(late, 30);
  EXPECT_LT(late, 70);
  EXPECT_EQ(read_labelled_csv(path, "text", "label", options).data.texts, sample.data.texts);
  options.seed = 8;
  EXPECT_NE(read_labelled_csv(path, "text", "label", options).data.texts, sample.data.texts);
}

TEST_F(Csv, ProgressReachesOneAndCanCancel) {
  const auto path = write("c.csv", "text,label\na,x\nb,y\n");
  float last = 0;
  read_labelled_csv(path, "text", "label", {}, [&](float f) {
    last = f;
    return true;
  });
  EXPECT_FLOAT_EQ(last, 1.0f);
  try {
    read_labelled_csv(path, "text", "label", {}, [](float) { return false; });
    FAIL() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
}

TEST_F(Csv, MissingFileIsNotFound) {
  try {
    read_labelled_csv((dir_ / "absent.csv").string(), "text", "label");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("absent.csv"), std::string::npos);
  }
}

// One malformed file: its bytes, what to read, and what the error must say.
struct BadFile {
  std::string name;
  std::string bytes;
  ErrorKind kind;
  long line;
  std::string message;  // a distinctive part of the message
  std::string field;    // Location::field, when the error names one
  std::vector<std::string> allowed_labels = {};
  std::size_t max_record_bytes = 4 << 20;
};

class CsvBadFile : public Csv, public ::testing::WithParamInterface<BadFile> {};

TEST_P(CsvBadFile, IsRejectedNamingFileAndLine) {
  const auto& bad = GetParam();
  const auto path = write(bad.name + ".csv", bad.bytes);
  LabelledCsvOptions options;
  options.allowed_labels = bad.allowed_labels;
  options.csv.max_record_bytes = bad.max_record_bytes;
  try {
    read_labelled_csv(path, "text", "label", options);
    FAIL() << bad.name << " was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), bad.kind) << what;
    EXPECT_EQ(e.where().file, path) << what;
    EXPECT_EQ(e.where().line, bad.line) << what;
    EXPECT_EQ(e.where().field, bad.field) << what;
    EXPECT_NE(what.find(path + ":" + std::to_string(bad.line)), std::string::npos) << what;
    EXPECT_NE(what.find(bad.message), std::string::npos) << what;
  }
}

const std::string kLong(200, 'x');

INSTANTIATE_TEST_SUITE_P(
    Malformed, CsvBadFile,
    ::testing::Values(
        BadFile{"empty", "", ErrorKind::InvalidArgument, 1, "the file is empty", ""},
        BadFile{"blank_lines", "\n\r\n\n", ErrorKind::InvalidArgument, 1, "the file is empty", ""},
        BadFile{"header_only", "text,label\n", ErrorKind::InvalidArgument, 1, "header but no data rows", ""},
        BadFile{"missing_text_column", "body,label\na,x\n", ErrorKind::NotFound, 1,
                "no column 'text'; the header has: body, label", "text"},
        BadFile{"missing_label_column", "text,class\na,x\nb,y\n", ErrorKind::NotFound, 1, "no column 'label'",
                "label"},
        BadFile{"one_class", "text,label\na,pos\nb,pos\nc,pos\n", ErrorKind::InvalidArgument, 2,
                "one class only: all 3 rows (lines 2-4) are labelled 'pos'", "label"},
        BadFile{"unknown_label", "text,label\na,pos\nb,neg\nc,neutral\n", ErrorKind::InvalidArgument, 4,
                "unknown label 'neutral' (allowed: neg, pos)", "label", {"neg", "pos"}},
        BadFile{"invalid_utf8", "text,label\na,x\n\"caf\xE9\",y\n", ErrorKind::Corrupt, 3, "invalid UTF-8 (byte 0xE9)",
                "field 1"},
        // The bad byte sits on the third line of a field that starts on line 2.
        BadFile{"invalid_utf8_multiline", "text,label\n\"one\ntwo\nthr\xC0\xAF\",x\n", ErrorKind::Corrupt, 4,
                "invalid UTF-8 (byte 0xC0)", "field 1"},
        BadFile{"utf16_surrogate", "text,label\na,x\nb\xED\xA0\x80,y\n", ErrorKind::Corrupt, 3, "invalid UTF-8",
                "field 1"},
        BadFile{"unterminated_quote", "text,label\na,x\n\"never closed,y\nb,z\n", ErrorKind::Corrupt, 3,
                "unterminated quoted field", ""},
        BadFile{"stray_quote", "text,label\na,x\nsay \"hi\",y\n", ErrorKind::Corrupt, 3, "malformed quoting", ""},
        BadFile{"ragged_row", "text,label\na,x\nb,y,extra\n", ErrorKind::Corrupt, 3,
                "ragged row: 3 fields where the first row has 2", ""},
        BadFile{"empty_label", "text,label\na,x\nb,\n", ErrorKind::InvalidArgument, 3, "empty label", "label"},
        BadFile{"empty_text", "text,label\na,x\n  ,y\n", ErrorKind::InvalidArgument, 3, "empty text", "text"},
        BadFile{"record_too_long", "text,label\na,x\n\"" + kLong + "\n" + kLong + "\",y\n", ErrorKind::Corrupt, 3,
                "record longer than 100 bytes", "", {}, 100}),
    [](const ::testing::TestParamInfo<BadFile>& info) { return info.param.name; });

TEST_F(Csv, QuotingErrorsNameTheByteColumn) {
  try {
    records("text,label\nab\"c,x\n");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().line, 2);
    EXPECT_EQ(e.where().column, 3) << e.what();  // the quote is the third byte of line 2
  }
}

}  // namespace
}  // namespace dglm
