/* SPDX-License-Identifier: MIT */
/*
 * udkctl's tables (drivers, personalities, match): a header line and rows
 * of text cells, each column as wide as its widest cell, two spaces
 * between columns, numbers right-aligned, the last column unpadded so that
 * no line ends in blanks.
 */
#ifndef UDKCTL_TABLE_H
#define UDKCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define UDKCTL_TABLE_COLUMNS_MAX 12
#define UDKCTL_TABLE_CELL_MAX    256

struct udkctl_table {
        size_t n_columns;
        const char *headers[UDKCTL_TABLE_COLUMNS_MAX];
        bool right[UDKCTL_TABLE_COLUMNS_MAX];
        char (*cells)[UDKCTL_TABLE_CELL_MAX]; /* n_rows * n_columns */
        size_t n_rows, allocated;
};

/* @spec: the headers, a leading '>' on one right-aligns its column ("NAME", ">ID"). */
void udkctl_table_init(struct udkctl_table *t, size_t n_columns, const char *const *spec);

/* A row of n_columns cells, each printf-free text (cut at UDKCTL_TABLE_CELL_MAX - 1).  -ENOMEM. */
int udkctl_table_add(struct udkctl_table *t, const char *const *cells);

void udkctl_table_print(const struct udkctl_table *t, FILE *f);

void udkctl_table_free(struct udkctl_table *t);

#endif
