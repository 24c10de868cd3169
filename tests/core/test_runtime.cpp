// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <unistd.h>

#include "dglm/runtime.h"

namespace dglm {
namespace {

TEST(Runtime, SetThreadsUsesEveryCoreByDefault) {
  set_threads(1);
  EXPECT_EQ(threads(), 1);
  set_threads(0);
  EXPECT_EQ(threads(), static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

// packaging/install-deps.sh selects OpenBLAS for libblas.so.3; this is the check that it took effect (the
// reference BLAS makes LibTorch about 20x slower) and that the start-up warning stays silent when it did.
TEST(Runtime, LibTorchRunsOnOpenBlas) {
  const auto report = blas_report();
  ASSERT_FALSE(report.library_path.empty()) << "no BLAS library is loaded";
  EXPECT_TRUE(report.is_openblas) << report.library_path;
  EXPECT_FALSE(report.is_reference);
  EXPECT_EQ(blas_warning(), "");
}

TEST(Runtime, CudaIsReportedNotAssumed) {
  // Debian's LibTorch is CPU-only; a CUDA build answers true. Either way the call must not throw.
  EXPECT_NO_THROW(cuda_available());
  EXPECT_STREQ(to_string(Device::Cpu), "cpu");
}

}  // namespace
}  // namespace dglm
