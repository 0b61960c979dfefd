// ggml's own K-quant dot products (libggml-cpu-haswell from node-llama-cpp 3.22.1): input.f32 read as
// 4 rows of 1024 floats, quantized to Q8_K (quantize_row_q8_K) as activations, times the 4 rows of each
// K-quant weight file (out.q4_k, out.q5_k, out.q6_k) with ggml_vec_dot_qN_K_q8_K_generic, the scalar
// definition. Writes out.q8_k and out.qN_k.dot (4 weight rows x 4 activation rows, float32, row-major).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <dlfcn.h>
typedef void (*q8k_fn)(const float *x, void *y, int64_t k);
typedef void (*dot_fn)(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);

static void *load(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb"); fseek(f, 0, SEEK_END); *n = ftell(f); fseek(f, 0, SEEK_SET);
    void *p = malloc(*n); if (fread(p, 1, *n, f) != *n) exit(1); fclose(f); return p;
}

int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    ((void (*)(void))dlsym(h, "ggml_cpu_init"))(); // fills the fp16 tables the dot products read
    q8k_fn q8k = (q8k_fn)dlsym(h, "quantize_row_q8_K");
    size_t n; float *x = load("input.f32", &n);
    unsigned char act[16 * 292];
    q8k(x, act, 4096);
    FILE *o = fopen("out.q8_k", "wb"); fwrite(act, 1, sizeof act, o); fclose(o);
    const char *wn[] = {"out.q4_k", "out.q5_k", "out.q6_k"};
    const char *fn[] = {"ggml_vec_dot_q4_K_q8_K_generic", "ggml_vec_dot_q5_K_q8_K_generic", "ggml_vec_dot_q6_K_q8_K_generic"};
    const char *simd[] = {"ggml_vec_dot_q4_K_q8_K", "ggml_vec_dot_q5_K_q8_K", "ggml_vec_dot_q6_K_q8_K"};
    const size_t bpb[] = {144, 176, 210};
    for (int t = 0; t < 3; t++) {
        unsigned char *w = load(wn[t], &n);
        dot_fn dot = (dot_fn)dlsym(h, fn[t]), fast = (dot_fn)dlsym(h, simd[t]);
        if (!dot || !fast) { fprintf(stderr, "no %s\n", fn[t]); return 1; }
        float out[16];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
            float s, f;
            dot(1024, &s, 0, w + i * 4 * bpb[t], 0, act + j * 4 * 292, 0, 1);
            fast(1024, &f, 0, w + i * 4 * bpb[t], 0, act + j * 4 * 292, 0, 1);
            out[i * 4 + j] = s;
            printf("%s w%d x%d generic %.9g simd %.9g\n", wn[t], i, j, s, f);
        }
        char name[64]; snprintf(name, sizeof name, "%s.dot", wn[t]);
        o = fopen(name, "wb"); fwrite(out, 4, 16, o); fclose(o);
    }
    return 0;
}
