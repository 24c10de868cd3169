// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/runtime.h"

#include <link.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

namespace dglm {

const char* to_string(Device device) { return device == Device::Cuda ? "cuda" : "cpu"; }

bool cuda_available() { return torch::cuda::is_available(); }

void set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  at::set_num_threads(threads);
}

int threads() { return at::get_num_threads(); }

BlasReport blas_report() {
  BlasReport report;
  // The BLAS LibTorch runs on is whatever libblas.so.3 resolved to at load time (a Debian alternative).
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<BlasReport*>(data);
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("libblas.so") == std::string::npos && name.find("libopenblas") == std::string::npos) return 0;
        char resolved[PATH_MAX];
        out->library_path = ::realpath(name.c_str(), resolved) ? resolved : name;
        return 1;
      },
      &report);
  report.is_openblas = report.library_path.find("openblas") != std::string::npos;
  report.is_reference = !report.library_path.empty() && !report.is_openblas &&
                        report.library_path.find("/blas/") != std::string::npos;
  return report;
}

std::string blas_warning() {
  const auto report = blas_report();
  if (report.is_openblas) return {};
  if (report.library_path.empty()) return "no BLAS library found loaded; LibTorch matrix products may be slow";
  return "LibTorch runs on " + report.library_path +
         (report.is_reference ? " (the reference BLAS, about 20x slower)" : "") +
         "; install libopenblas0-openmp and select it with update-alternatives (packaging/install-deps.sh does)";
}

}  // namespace dglm
