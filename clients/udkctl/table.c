/* SPDX-License-Identifier: MIT */
/* udkctl's tables (see table.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "table.h"

void udkctl_table_init(struct udkctl_table *t, size_t n_columns, const char *const *spec)
{
        *t = (struct udkctl_table){ .n_columns = UDK_MIN(n_columns, (size_t)UDKCTL_TABLE_COLUMNS_MAX) };
        for (size_t i = 0; i < t->n_columns; i++) {
                t->right[i] = spec[i][0] == '>';
                t->headers[i] = spec[i] + t->right[i];
        }
}

int udkctl_table_add(struct udkctl_table *t, const char *const *cells)
{
        if (t->n_rows == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 16;
                void *p = realloc(t->cells, n * t->n_columns * sizeof(*t->cells));

                if (!p)
                        return -ENOMEM;
                t->cells = p;
                t->allocated = n;
        }
        for (size_t i = 0; i < t->n_columns; i++)
                udk_strlcpy(t->cells[t->n_rows * t->n_columns + i], cells[i] ? cells[i] : "",
                            UDKCTL_TABLE_CELL_MAX);
        t->n_rows++;
        return 0;
}

static void print_row(const struct udkctl_table *t, FILE *f, const char *const *cells, const size_t *width)
{
        char line[UDKCTL_TABLE_COLUMNS_MAX * (UDKCTL_TABLE_CELL_MAX + 2) + 1];
        size_t len = 0;

        for (size_t i = 0; i < t->n_columns; i++) {
                bool last = i + 1 == t->n_columns;
                int n;

                if (i > 0) {
                        memcpy(line + len, "  ", 2);
                        len += 2;
                }
                if (t->right[i])
                        n = snprintf(line + len, sizeof(line) - len, "%*s", (int)width[i], cells[i]);
                else
                        n = snprintf(line + len, sizeof(line) - len, "%-*s", last ? 0 : (int)width[i], cells[i]);
                len += (size_t)n; /* each cell is shorter than UDKCTL_TABLE_CELL_MAX: it fits */
        }
        /* An empty last cell leaves no blanks behind. */
        while (len > 0 && line[len - 1] == ' ')
                len--;
        fprintf(f, "%.*s\n", (int)len, line);
}

void udkctl_table_print(const struct udkctl_table *t, FILE *f)
{
        size_t width[UDKCTL_TABLE_COLUMNS_MAX];
        const char *cells[UDKCTL_TABLE_COLUMNS_MAX];

        for (size_t i = 0; i < t->n_columns; i++) {
                width[i] = strlen(t->headers[i]);
                for (size_t r = 0; r < t->n_rows; r++)
                        width[i] = UDK_MAX(width[i], strlen(t->cells[r * t->n_columns + i]));
        }
        print_row(t, f, t->headers, width);
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t i = 0; i < t->n_columns; i++)
                        cells[i] = t->cells[r * t->n_columns + i];
                print_row(t, f, cells, width);
        }
}

void udkctl_table_free(struct udkctl_table *t)
{
        free(t->cells);
        *t = (struct udkctl_table){};
}
