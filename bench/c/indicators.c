/*
 * Plain C loops of the same formulas as src/indicators (TA-Lib definitions), the physical reference for
 * bench/indicators.ts. Built at bench time with `gcc -O2`. Usage: indicators <input.bin> <n> <runs> [NAME]
 * (NAME: run only that indicator, so the caller can interleave C and JavaScript runs under the same load)
 * where input.bin holds n doubles each of high, low, close, volume. Prints "<name> <median ms> <checksum>".
 * Every run allocates its outputs, as the JavaScript kernels do.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double *alloc_nan(int n) {
  double *o = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) o[i] = NAN;
  return o;
}
static double sum_finite(const double *o, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) if (isfinite(o[i])) s += o[i];
  return s;
}
#define TA_IS_ZERO(v) ((-1e-14 < (v)) && ((v) < 1e-14))

static double *sma(const double *x, int n, int p) {
  double *o = alloc_nan(n), t = 0;
  for (int i = 0; i < p - 1; i++) t += x[i];
  int tr = 0;
  for (int i = p - 1; i < n; i++) { t += x[i]; double v = t; t -= x[tr++]; o[i] = v / p; }
  return o;
}
static double *ema(const double *x, int n, int p) {
  double *o = alloc_nan(n), k = 2.0 / (p + 1), s = 0;
  for (int i = 0; i < p; i++) s += x[i];
  double prev = s / p; o[p - 1] = prev;
  for (int i = p; i < n; i++) { prev = (x[i] - prev) * k + prev; o[i] = prev; }
  return o;
}
static double *wma(const double *x, int n, int p) {
  double *o = alloc_nan(n), sum = 0, sub = 0, trv = 0, div = p * (p + 1) / 2.0;
  for (int i = 0; i < p - 1; i++) { sub += x[i]; sum += x[i] * (i + 1); }
  int tr = 0;
  for (int i = p - 1; i < n; i++) { sub += x[i]; sub -= trv; sum += x[i] * p; trv = x[tr++]; o[i] = sum / div; sum -= sub; }
  return o;
}
static double *rsi(const double *x, int n, int p) {
  double *o = alloc_nan(n), g = 0, l = 0, prev = x[0];
  for (int i = 1; i <= p; i++) { double d = x[i] - prev; prev = x[i]; if (d < 0) l -= d; else g += d; }
  l /= p; g /= p;
  double t = g + l; o[p] = TA_IS_ZERO(t) ? 0 : 100 * (g / t);
  for (int i = p + 1; i < n; i++) {
    double d = x[i] - prev; prev = x[i]; l *= p - 1; g *= p - 1;
    if (d < 0) l -= d; else g += d;
    l /= p; g /= p; t = g + l; o[i] = TA_IS_ZERO(t) ? 0 : 100 * (g / t);
  }
  return o;
}
static double *macd(const double *x, int n) {
  const int fast = 12, slow = 26, sig = 9;
  double *m = alloc_nan(n), *s = alloc_nan(n), *h = alloc_nan(n);
  double k1 = 2.0 / (slow + 1), k2 = 2.0 / (fast + 1), k3 = 2.0 / (sig + 1), a = 0, b = 0;
  for (int i = 0; i < slow; i++) a += x[i];
  for (int i = slow - fast; i < slow; i++) b += x[i];
  double se = a / slow, fe = b / fast, line = fe - se, ss = line, sg = 0;
  int first = slow - 1 + sig - 1;
  for (int i = slow; i < n; i++) {
    se = (x[i] - se) * k1 + se; fe = (x[i] - fe) * k2 + fe; line = fe - se;
    if (i < first) { ss += line; continue; }
    if (i == first) { ss += line; sg = ss / sig; } else sg = (line - sg) * k3 + sg;
    m[i] = line; s[i] = sg; h[i] = line - sg;
  }
  free(m); free(s);
  return h;
}
static double *atr(const double *hi, const double *lo, const double *c, int n, int p) {
  double *o = alloc_nan(n), s = 0;
  for (int i = 1; i <= p; i++) {
    double tr = hi[i] - lo[i], t = fabs(hi[i] - c[i - 1]); if (t > tr) tr = t; t = fabs(lo[i] - c[i - 1]); if (t > tr) tr = t; s += tr;
  }
  double a = s / p; o[p] = a;
  for (int i = p + 1; i < n; i++) {
    double tr = hi[i] - lo[i], t = fabs(hi[i] - c[i - 1]); if (t > tr) tr = t; t = fabs(lo[i] - c[i - 1]); if (t > tr) tr = t;
    a *= p - 1; a += tr; a /= p; o[i] = a;
  }
  return o;
}
static double *bbands(const double *x, int n, int p) {
  double *u = alloc_nan(n), *m = alloc_nan(n), *l = alloc_nan(n), t = 0;
  for (int i = 0; i < p - 1; i++) t += x[i];
  for (int i = p - 1; i < n; i++) {
    int from = i - p + 1; t += x[i]; double mid = t / p; t -= x[from];
    double s = 0; for (int j = 0; j < p; j++) s += x[from + j];
    double mean = s / p, ss = 0; for (int j = 0; j < p; j++) { double d = x[from + j] - mean; ss += d * d; }
    double sd = sqrt(ss / p); m[i] = mid; u[i] = mid + 2 * sd; l[i] = mid - 2 * sd;
  }
  free(m); free(l);
  return u;
}
static double *adx(const double *hi, const double *lo, const double *c, int n, int p) {
  double *a = alloc_nan(n), *pd = alloc_nan(n), *md = alloc_nan(n);
  double ph = hi[0], pl = lo[0], pc = c[0], pdm = 0, mdm = 0, tr = 0, sdx = 0, prev = NAN;
  for (int i = 1; i < n; i++) {
    double dp = hi[i] - ph; ph = hi[i]; double dm = pl - lo[i]; pl = lo[i];
    double t = hi[i] - lo[i], t2 = fabs(hi[i] - pc); if (t2 > t) t = t2; t2 = fabs(lo[i] - pc); if (t2 > t) t = t2; pc = c[i];
    if (i < p) { if (dm > 0 && dp < dm) mdm += dm; else if (dp > 0 && dp > dm) pdm += dp; tr += t; continue; }
    mdm -= mdm / p; pdm -= pdm / p;
    if (dm > 0 && dp < dm) mdm += dm; else if (dp > 0 && dp > dm) pdm += dp;
    tr = tr - tr / p + t;
    double dx = NAN;
    if (TA_IS_ZERO(tr)) { pd[i] = 0; md[i] = 0; }
    else { double mm = 100 * (mdm / tr), pp = 100 * (pdm / tr); md[i] = mm; pd[i] = pp; double s = mm + pp; if (!TA_IS_ZERO(s)) dx = 100 * (fabs(mm - pp) / s); }
    if (i < 2 * p - 1) { if (!isnan(dx)) sdx += dx; continue; }
    if (i == 2 * p - 1) { if (!isnan(dx)) sdx += dx; prev = sdx / p; } else if (!isnan(dx)) prev = (prev * (p - 1) + dx) / p;
    a[i] = prev;
  }
  free(pd); free(md);
  return a;
}
/* windowed extreme with TA-Lib's rescan-on-expiry bookkeeping */
static void extreme(const double *x, int n, int p, int highest, double *o) {
  int ei = -1; double e = 0;
  for (int i = p - 1; i < n; i++) {
    int tr = i - p + 1; double v = x[i];
    if (ei < tr) { ei = tr; e = x[tr]; for (int j = tr + 1; j <= i; j++) { double w = x[j]; if (highest ? w > e : w < e) { ei = j; e = w; } } }
    else if (highest ? v >= e : v <= e) { ei = i; e = v; }
    o[i] = e;
  }
}
static double *willr(const double *hi, const double *lo, const double *c, int n, int p) {
  double *hh = alloc_nan(n), *ll = alloc_nan(n), *o = alloc_nan(n);
  extreme(hi, n, p, 1, hh); extreme(lo, n, p, 0, ll);
  for (int i = p - 1; i < n; i++) { double d = (hh[i] - ll[i]) / -100.0; o[i] = d != 0 ? (hh[i] - c[i]) / d : 0; }
  free(hh); free(ll);
  return o;
}
static double *stoch(const double *hi, const double *lo, const double *c, int n) {
  const int fk = 5, sk = 3, sd = 3;
  double *hh = alloc_nan(n), *ll = alloc_nan(n), *k = alloc_nan(n), *d = alloc_nan(n);
  extreme(hi, n, fk, 1, hh); extreme(lo, n, fk, 0, ll);
  double rk[3], rd[3], tk = 0, td = 0; int nk = 0, nd = 0;
  for (int i = fk - 1; i < n; i++) {
    double diff = (hh[i] - ll[i]) / 100.0, v = diff != 0 ? (c[i] - ll[i]) / diff : 0;
    rk[nk % sk] = v; tk += v; nk++;
    if (nk < sk) continue;
    double s = tk / sk; tk -= rk[(nk - sk) % sk];
    rd[nd % sd] = s; td += s; nd++;
    if (nd < sd) continue;
    double dd = td / sd; td -= rd[(nd - sd) % sd];
    k[i] = s; d[i] = dd;
  }
  free(hh); free(ll); free(k);
  return d;
}
static double *cci(const double *hi, const double *lo, const double *c, int n, int p) {
  double *o = alloc_nan(n), *circ = calloc(p, sizeof(double)); int idx = 0;
  for (int i = 0; i < n; i++) {
    double last = (hi[i] + lo[i] + c[i]) / 3; circ[idx] = last;
    if (i >= p - 1) {
      double avg = 0; for (int j = 0; j < p; j++) avg += circ[j]; avg /= p;
      double dev = 0; for (int j = 0; j < p; j++) dev += fabs(circ[j] - avg);
      double t = last - avg; o[i] = (t != 0 && dev != 0) ? t / (0.015 * (dev / p)) : 0;
    }
    idx = idx + 1 == p ? 0 : idx + 1;
  }
  free(circ);
  return o;
}
static double *mfi(const double *hi, const double *lo, const double *c, const double *v, int n, int p) {
  double *o = alloc_nan(n), *pos = calloc(p, sizeof(double)), *neg = calloc(p, sizeof(double)), ps = 0, ns = 0;
  double prev = (hi[0] + lo[0] + c[0]) / 3.0; int idx = 0;
  for (int i = 1; i < n; i++) {
    if (i > p) { ps -= pos[idx]; ns -= neg[idx]; }
    double tp = (hi[i] + lo[i] + c[i]) / 3.0, d = tp - prev; prev = tp; double mf = tp * v[i];
    if (d < 0) { neg[idx] = mf; ns += mf; pos[idx] = 0; } else if (d > 0) { pos[idx] = mf; ps += mf; neg[idx] = 0; } else { pos[idx] = 0; neg[idx] = 0; }
    idx = idx + 1 == p ? 0 : idx + 1;
    if (i < p) continue;
    double t = ps + ns; o[i] = t < 1.0 ? 0 : 100.0 * (ps / t);
  }
  free(pos); free(neg);
  return o;
}
static double *obv(const double *c, const double *v, int n) {
  double *o = alloc_nan(n), ob = v[0], prev = c[0];
  for (int i = 0; i < n; i++) { if (c[i] > prev) ob += v[i]; else if (c[i] < prev) ob -= v[i]; o[i] = ob; prev = c[i]; }
  return o;
}
static double *roc(const double *x, int n, int p) {
  double *o = alloc_nan(n);
  for (int i = p; i < n; i++) { double pr = x[i - p]; o[i] = pr != 0 ? (x[i] / pr - 1.0) * 100.0 : 0; }
  return o;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s input.bin n runs\n", argv[0]); return 2; }
  int n = atoi(argv[2]), runs = atoi(argv[3]);
  double *buf = malloc(sizeof(double) * 4 * n);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(buf, sizeof(double), 4 * (size_t)n, f) != 4 * (size_t)n) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(f);
  const double *hi = buf, *lo = buf + n, *c = buf + 2 * n, *v = buf + 3 * n;
  const char *names[] = {"SMA", "EMA", "WMA", "RSI", "MACD", "ATR", "BBANDS", "ADX", "STOCH", "CCI", "WILLR", "MFI", "OBV", "ROC"};
  int count = sizeof(names) / sizeof(names[0]);
  double *times = malloc(sizeof(double) * runs);
  for (int k = 0; k < count; k++) {
    if (argc > 4 && strcmp(argv[4], names[k]) != 0) continue;
    double check = 0;
    for (int r = 0; r < runs; r++) {
      double t0 = now_ms(), *o = NULL;
      switch (k) {
        case 0: o = sma(c, n, 20); break;
        case 1: o = ema(c, n, 20); break;
        case 2: o = wma(c, n, 20); break;
        case 3: o = rsi(c, n, 14); break;
        case 4: o = macd(c, n); break;
        case 5: o = atr(hi, lo, c, n, 14); break;
        case 6: o = bbands(c, n, 20); break;
        case 7: o = adx(hi, lo, c, n, 14); break;
        case 8: o = stoch(hi, lo, c, n); break;
        case 9: o = cci(hi, lo, c, n, 14); break;
        case 10: o = willr(hi, lo, c, n, 14); break;
        case 11: o = mfi(hi, lo, c, v, n, 14); break;
        case 12: o = obv(c, v, n); break;
        case 13: o = roc(c, n, 10); break;
      }
      times[r] = now_ms() - t0;
      check = sum_finite(o, n);
      free(o);
    }
    qsort(times, runs, sizeof(double), cmp);
    printf("%s %.6f %.17g\n", names[k], runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2, check);
  }
  return 0;
}
