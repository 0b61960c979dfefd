# Inputs for the ggml golden file: 128 blocks of 32 float32 values with the hard cases.
import struct, random, math
random.seed(20261124)
f32 = lambda x: struct.unpack('<f', struct.pack('<f', x))[0]
blocks = []
# 1) gaussian blocks at many scales
for k in range(64):
    s = 10 ** random.uniform(-6, 3)
    blocks.append([f32(random.gauss(0, 1) * s) for _ in range(32)])
# 2) exact ties for Q8_0: amax = 127*d with d a power of two, values on half steps
for k in range(16):
    d = 2.0 ** random.randint(-12, 4)
    b = [f32((random.randint(-254, 254) / 2) * d) for _ in range(32)]
    b[random.randrange(32)] = 127 * d * random.choice([-1, 1])
    blocks.append(b)
# 3) exact ties for Q4_0: max = -8*d or +8*d, values on half steps
for k in range(16):
    d = 2.0 ** random.randint(-10, 3)
    sign = random.choice([-1, 1])
    b = [f32((random.randint(-16, 16) / 2) * d) for _ in range(32)]
    b[random.randrange(32)] = sign * 8 * d
    blocks.append(b)
# 4) special blocks
blocks.append([0.0] * 32)
b = [0.0] * 32; b[7] = 1e-3; blocks.append(b)
b = [0.0] * 32; b[3] = -8.0; b[20] = 8.0; blocks.append(b)          # equal magnitude, first one wins
b = [0.0] * 32; b[3] = 8.0; b[20] = -8.0; blocks.append(b)
blocks.append([f32(1e-40 * (i - 16)) for i in range(32)])            # subnormals
blocks.append([f32(6.0e4 * math.sin(i)) for i in range(32)])         # near fp16 max
blocks.append([f32(1e5 * math.cos(i)) for i in range(32)])           # amax/-8 overflows... in fp16 scale
blocks.append([f32(-(i + 1) * 0.01) for i in range(32)])             # all negative
blocks.append([f32((i + 1) * 0.01) for i in range(32)])              # all positive
blocks.append([f32(1.0 + i * 2.0 ** -11) for i in range(32)])        # fp16 rounding ties
blocks.append([f32(1.0 + i * 2.0 ** -8) for i in range(32)])         # bf16 rounding ties
while len(blocks) < 128:
    blocks.append([f32(random.uniform(-1, 1)) for _ in range(32)])
vals = [v for b in blocks for v in b]
assert len(vals) == 4096
open('input.f32', 'wb').write(struct.pack('<%df' % len(vals), *vals))
