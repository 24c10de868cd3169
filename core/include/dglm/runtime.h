// SPDX-License-Identifier: GPL-3.0-or-later
// Process-wide compute settings: threads and the BLAS LibTorch runs on.
#pragma once

#include <string>

namespace dglm {

enum class Device { Cpu, Cuda };

const char* to_string(Device device);
bool cuda_available();

// LibTorch picks half the cores on x86-64 (one thread on a 2-core machine); 0 means "all cores".
void set_threads(int threads = 0);
int threads();

struct BlasReport {
  std::string library_path;  // the resolved libblas.so.3 that is loaded, empty if none was found
  bool is_openblas = false;
  bool is_reference = false;  // the netlib reference BLAS: about 20x slower for LibTorch
};
BlasReport blas_report();
// One line for a log or status bar; says what to do when the reference BLAS is loaded.
std::string blas_warning();

}  // namespace dglm
