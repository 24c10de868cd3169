/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plain-C interface between the core and the SentencePiece plugin. Nothing of C++ or protobuf crosses it:
   the plugin carries Debian's libsentencepiece with its private protobuf copy, loaded with RTLD_DEEPBIND so
   that copy never meets the one LibTorch uses. Buffers are the caller's: functions return the size they need
   (without a terminating NUL) and write at most `capacity` elements; -1 means failure. */
#ifndef DGLM_SENTENCEPIECE_API_H
#define DGLM_SENTENCEPIECE_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DGLM_SENTENCEPIECE_API_VERSION 1

enum DglmSpmSpecial { DGLM_SPM_PAD = 0, DGLM_SPM_UNK = 1, DGLM_SPM_BOS = 2, DGLM_SPM_EOS = 3 };

typedef struct DglmSentencePieceApi {
  int version;
  /* Returns a handle, or NULL with a message in `error`. */
  void* (*load)(const char* path, char* error, size_t error_capacity);
  void (*destroy)(void* handle);
  long (*encode)(void* handle, const char* text, size_t length, int* ids, size_t capacity);
  long (*decode)(void* handle, const int* ids, size_t count, char* text, size_t capacity);
  long (*piece)(void* handle, int id, char* text, size_t capacity);
  int (*vocab_size)(void* handle);
  int (*special_id)(void* handle, enum DglmSpmSpecial which);
  /* `options` is "key=value" lines (SentencePiece trainer flags without "--"). Returns 0 on success. */
  int (*train)(const char* options, char* error, size_t error_capacity);
} DglmSentencePieceApi;

const DglmSentencePieceApi* dglm_sentencepiece_api(void);

#ifdef __cplusplus
}
#endif

#endif
