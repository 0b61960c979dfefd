// Runs ggml's own row quantizers and K-quant decoders (libggml-base from node-llama-cpp 3.22.1) on input.f32.
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <dlfcn.h>
typedef size_t (*quantize_chunk_fn)(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix);
typedef void (*dequantize_fn)(const void *x, float *y, int64_t k);

static void save(const char *path, const void *data, size_t n) {
    FILE *o = fopen(path, "wb"); fwrite(data, 1, n, o); fclose(o);
    printf("%s %zu bytes\n", path, n);
}

int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    quantize_chunk_fn q = (quantize_chunk_fn)dlsym(h, "ggml_quantize_chunk");
    if (!q) { fprintf(stderr, "no ggml_quantize_chunk\n"); return 1; }
    FILE *f = fopen("input.f32", "rb"); float *x = malloc(4096 * 4);
    if (fread(x, 4, 4096, f) != 4096) { return 1; } fclose(f);
    unsigned char *dst = malloc(4096 * 4);
    float *back = malloc(4096 * 4);

    // Row codecs: F16 = 1, BF16 = 30, Q8_0 = 8, Q4_0 = 2 (16 rows of 256).
    int types[] = {1, 30, 8, 2}; const char *names[] = {"out.f16", "out.bf16", "out.q8_0", "out.q4_0"};
    for (int t = 0; t < 4; t++) save(names[t], dst, q(types[t], x, dst, 0, 16, 256, NULL));

    // K-quants: Q4_K = 12, Q6_K = 14, Q5_K = 13, Q3_K = 11, Q2_K = 10, then ggml's decoder of those bytes.
    int ktypes[] = {12, 14, 13, 11, 10};
    const char *kn[] = {"out.q4_k", "out.q6_k", "out.q5_k", "out.q3_k", "out.q2_k"};
    const char *dn[] = {"dequantize_row_q4_K", "dequantize_row_q6_K", "dequantize_row_q5_K", "dequantize_row_q3_K", "dequantize_row_q2_K"};
    const char *bn[] = {"out.q4_k.f32", "out.q6_k.f32", "out.q5_k.f32", "out.q3_k.f32", "out.q2_k.f32"};
    for (int t = 0; t < 5; t++) {
        size_t n = q(ktypes[t], x, dst, 0, 16, 256, NULL);
        save(kn[t], dst, n);
        dequantize_fn d = (dequantize_fn)dlsym(h, dn[t]);
        if (!d) { fprintf(stderr, "no %s\n", dn[t]); return 1; }
        d(dst, back, 4096);
        save(bn[t], back, 4096 * 4);
    }
    return 0;
}
