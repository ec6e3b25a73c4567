# The functions the bench scripts' summaries share (see summarize in bench/lib.sh). POSIX awk:
# Debian's default awk is mawk.

# field(NAME): the value of NAME=VALUE among the current line's fields, as LoadGenerator and
# ColdLookup print them.
function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
}

# median(ARR, K): the median of ARR[K, 1], ARR[K, 2] … as far as they go (the upper one of
# an even count).
function median(arr, k,   i, j, t, v, cnt) {
    for (cnt = 0; (k, cnt + 1) in arr; cnt++) v[cnt + 1] = arr[k, cnt + 1] + 0
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((cnt + 1) / 2)]
}

# num(X): X rounded to a whole number, with thousands separators (12,345).
function num(x,   s, r) { s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r }

# ms(US): microseconds as milliseconds, two decimals below 10 ms.
function ms(us) { return us >= 10000 ? sprintf("%.0f ms", us / 1000) : sprintf("%.2f ms", us / 1000) }
