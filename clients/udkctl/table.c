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
        for (size_t i = 0; i < t->n_columns; i++) {
                bool last = i + 1 == t->n_columns;

                if (i > 0)
                        fputs("  ", f);
                if (t->right[i])
                        fprintf(f, "%*s", (int)width[i], cells[i]);
                else if (last)
                        fputs(cells[i], f);
                else
                        fprintf(f, "%-*s", (int)width[i], cells[i]);
        }
        fputc('\n', f);
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
