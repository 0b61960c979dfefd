// llama-quantize from the prebuilt llama.cpp inside node-llama-cpp (libllama has llama_model_quantize but
// no CLI): writes the llama.cpp mixtures (Q4_K_M, Q5_K_M, Q6_K, ...) with llama.cpp's own per-tensor
// choices from an F32/F16 GGUF, e.g. one `alpaca bench --make-model 15M:f32` wrote.
//
//   L=tools/llama-oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   gcc -O1 -o /tmp/llama-quantize bench/llama-cpp/llama-quantize.c -ldl
//   LD_LIBRARY_PATH=$L /tmp/llama-quantize $L/libllama.v0.5.0.so IN.gguf OUT.gguf 15   # 15 = LLAMA_FTYPE_MOSTLY_Q4_K_M
//
// ftype ids (llama.h): 7 Q8_0, 2 Q4_0, 10 Q2_K, 12 Q3_K_M, 14 Q4_K_S, 15 Q4_K_M, 16 Q5_K_S, 17 Q5_K_M, 18 Q6_K.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <dlfcn.h>

// llama_model_quantize_params is returned by value; its first two fields are int32 nthread and the ftype.
// The buffer is larger than the struct (the ABI returns it through a hidden pointer either way).
typedef struct { int32_t nthread; int32_t ftype; unsigned char rest[504]; } params_t;

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s libllama.so IN.gguf OUT.gguf FTYPE\n", argv[0]); return 2; }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    void (*backend_init)(void) = (void (*)(void))dlsym(h, "llama_backend_init");
    params_t (*defaults)(void) = (params_t (*)(void))dlsym(h, "llama_model_quantize_default_params");
    uint32_t (*quantize)(const char *, const char *, const params_t *) =
        (uint32_t (*)(const char *, const char *, const params_t *))dlsym(h, "llama_model_quantize");
    if (!backend_init || !defaults || !quantize) { fprintf(stderr, "libllama lacks the quantize API\n"); return 1; }
    backend_init();
    params_t p = defaults();
    p.ftype = atoi(argv[4]);
    uint32_t rc = quantize(argv[2], argv[3], &p);
    if (rc != 0) { fprintf(stderr, "llama_model_quantize failed: %u\n", rc); return 1; }
    return 0;
}
