/* SPDX-License-Identifier: MIT */
/*
 * Remote nodes on the control thread: clients join, leave and move by a new
 * plan, which the RT thread takes at a cycle start (see device.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "device-private.h"

void udk_remote_unref(struct udk_remote *r)
{
        if (--r->refs > 0 || !r->removed)
                return;
        if (r->desc.destroy)
                r->desc.destroy(r->desc.data);
        free(r);
}

int udk_device_add_remote(struct udk_device *dev, const struct udk_remote_desc *desc, struct udk_remote **ret)
{
        struct udk_remote *r;
        int err;

        if (!dev || !desc || !desc->name || !desc->activation)
                return -EINVAL;
        if (desc->input_channels > dev->cfg.input_channels || desc->output_channels > dev->cfg.output_channels)
                return -EINVAL;
        if ((desc->input_channels && !desc->input) || (desc->output_channels && !desc->output))
                return -EINVAL;
        if (desc->slot < 0 || desc->slot >= (int32_t)UDK_DEVICE_REMOTES_MAX)
                return -EINVAL;
        if (dev->n_remotes >= UDK_DEVICE_REMOTES_MAX)
                return -ENOSPC;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        udk_object_init(&r->obj, UDK_CLASS_HANDLER, dev->obj.id, desc->name);
        r->dev = dev;
        r->desc = *desc;
        r->desc.name = r->obj.name;
        atomic_init(&r->gain_bits, udk_float_to_bits(desc->gain));
        udk_histogram_reset(&r->stats.wake);
        udk_histogram_reset(&r->stats.busy);
        dev->remotes[dev->n_remotes++] = r;
        err = udk_device_plan_publish(dev);
        if (err < 0) {
                dev->n_remotes--;
                free(r);
                return err;
        }
        if (ret)
                *ret = r;
        return 0;
}

int udk_device_remote_position(const struct udk_device *dev, const struct udk_remote *remote)
{
        for (uint32_t i = 0; i < dev->n_remotes; i++)
                if (dev->remotes[i] == remote)
                        return (int)i;
        return -ENOENT;
}

int udk_device_remove_remote(struct udk_device *dev, struct udk_remote *remote)
{
        int i, r;

        if (!dev || !remote)
                return -EINVAL;
        i = udk_device_remote_position(dev, remote);
        if (i < 0)
                return i;
        memmove(&dev->remotes[i], &dev->remotes[i + 1], (dev->n_remotes - (uint32_t)i - 1) * sizeof(dev->remotes[0]));
        dev->n_remotes--;
        remote->removed = true;
        /* It lives on in the plans that hold it until they retire. */
        remote->refs++;
        r = udk_device_plan_publish(dev);
        udk_remote_unref(remote);
        return r;
}

int udk_device_move_remote(struct udk_device *dev, struct udk_remote *remote, uint32_t position)
{
        int i;

        if (!dev || !remote)
                return -EINVAL;
        i = udk_device_remote_position(dev, remote);
        if (i < 0)
                return i;
        if (position >= dev->n_remotes)
                position = dev->n_remotes - 1;
        if ((uint32_t)i == position)
                return 0;
        memmove(&dev->remotes[i], &dev->remotes[i + 1], (dev->n_remotes - (uint32_t)i - 1) * sizeof(dev->remotes[0]));
        memmove(&dev->remotes[position + 1], &dev->remotes[position],
                (dev->n_remotes - 1 - position) * sizeof(dev->remotes[0]));
        dev->remotes[position] = remote;
        return udk_device_plan_publish(dev);
}

uint32_t udk_device_n_remotes(const struct udk_device *dev)
{
        return dev->n_remotes;
}

struct udk_remote *udk_device_remote(struct udk_device *dev, uint32_t index)
{
        return index < dev->n_remotes ? dev->remotes[index] : NULL;
}

void udk_remote_set_gain(struct udk_remote *remote, float gain)
{
        atomic_store_explicit(&remote->gain_bits, udk_float_to_bits(gain), memory_order_relaxed);
}

float udk_remote_gain(const struct udk_remote *remote)
{
        return udk_float_from_bits(atomic_load_explicit(&remote->gain_bits, memory_order_relaxed));
}

const struct udk_remote_stats *udk_remote_stats(const struct udk_remote *remote)
{
        return &remote->stats;
}

bool udk_remote_is_suspended(const struct udk_remote *remote)
{
        return atomic_load_explicit(&remote->stats.suspended, memory_order_relaxed);
}

int32_t udk_remote_slot(const struct udk_remote *remote)
{
        return remote->desc.slot;
}

int udk_device_graph_shm_fd(const struct udk_device *dev)
{
        return dev->graph_shm.fd;
}

size_t udk_device_graph_shm_size(const struct udk_device *dev)
{
        return dev->graph_shm.size;
}

const struct udk_histogram *udk_device_graph_times(const struct udk_device *dev)
{
        return &dev->graph_times;
}

size_t udk_device_zts_offset(void)
{
        return offsetof(struct udk_device_shm, zts);
}
