/* SPDX-License-Identifier: MIT */
/*
 * A sine's signal-to-noise ratio, exactly: fit a·sin + b·cos + c at the
 * known frequency by least squares (the 3x3 normal equations, solved in
 * double), subtract it, and compare the fitted sine's power with what is
 * left.  The phase is free, so a converter's delay needs no guessing.
 */
#ifndef UDK_TEST_SINE_H
#define UDK_TEST_SINE_H

#include <math.h>
#include <stddef.h>

/* @n samples of channel @ch of @channels-channel interleaved @x; @freq in cycles per sample. */
static inline double udk_test_sine_snr_db(const float *x, size_t n, unsigned channels, unsigned ch,
                                          double freq, double *ret_amplitude)
{
        double m[3][4] = { { 0 } }, coef[3];
        double sig = 0, res = 0;

        for (size_t i = 0; i < n; i++) {
                double ph = 2 * M_PI * freq * (double)i;
                double v[3] = { sin(ph), cos(ph), 1.0 }, y = x[i * channels + ch];
                for (int r = 0; r < 3; r++) {
                        for (int c = 0; c < 3; c++)
                                m[r][c] += v[r] * v[c];
                        m[r][3] += v[r] * y;
                }
        }
        /* Gauss-Jordan with partial pivoting. */
        for (int c = 0; c < 3; c++) {
                int p = c;
                for (int r = c + 1; r < 3; r++)
                        if (fabs(m[r][c]) > fabs(m[p][c]))
                                p = r;
                for (int k = 0; k < 4; k++) {
                        double t = m[c][k];
                        m[c][k] = m[p][k];
                        m[p][k] = t;
                }
                for (int r = 0; r < 3; r++) {
                        if (r == c)
                                continue;
                        double f = m[r][c] / m[c][c];
                        for (int k = c; k < 4; k++)
                                m[r][k] -= f * m[c][k];
                }
        }
        for (int r = 0; r < 3; r++)
                coef[r] = m[r][3] / m[r][r];
        for (size_t i = 0; i < n; i++) {
                double ph = 2 * M_PI * freq * (double)i;
                double s = coef[0] * sin(ph) + coef[1] * cos(ph);
                double e = x[i * channels + ch] - s - coef[2];
                sig += s * s;
                res += e * e;
        }
        if (ret_amplitude)
                *ret_amplitude = hypot(coef[0], coef[1]);
        return res > 0 ? 10 * log10(sig / res) : INFINITY;
}

#endif
