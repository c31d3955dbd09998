/* SPDX-License-Identifier: MIT */
/*
 * The JACK backend: udkd as a JACK client.  The device's input channels are
 * the client's input ports "<device>_in_<n>", its output channels the
 * output ports "<device>_out_<n>" (n from 1), so with the default client
 * name they read "udkd:studio_in_1".
 *
 * JACK is the clock, and its process callback is the device's RT thread:
 * the callback runs the whole udk cycle (udk_device_run_cycle()) with no
 * hop to another thread, so a udk client's output reaches JACK in the same
 * JACK cycle that brought its input.  The rate and the period are JACK's
 * (udk_device_set_timing() in open); a new buffer size or sample rate asks
 * udkd to build the device again, and a server that goes away asks udkd to
 * remove it.  Both requests come from JACK's notification thread and go to
 * udkd's control thread through udk_device_request().
 *
 * Options: server (the JACK server's name; default $JACK_DEFAULT_SERVER,
 * else "default"), client_name (default "udkd"; JACK adds "-01" and so on
 * when it is taken), autoconnect (yes: connect the ports to the first
 * physical ports; default no).
 */
#include <errno.h>
#include <jack/jack.h>
#include <jack/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/backend.h>
#include <udk/device.h>
#include <udk/log.h>
#include <udk/util.h>

#define JACK_NAME_MAX 64

struct jack_backend {
        struct udk_device *dev;
        char server[JACK_NAME_MAX];
        char client_name[JACK_NAME_MAX];
        bool autoconnect;

        jack_client_t *client;
        jack_port_t *in_ports[UDK_CHANNELS_MAX];
        jack_port_t *out_ports[UDK_CHANNELS_MAX];
        uint32_t in_ch, out_ch, rate, period;
        bool active;
        _Atomic bool gone;       /* the server shut the client down */
        _Atomic bool rebuilding; /* a new period or rate: udkd builds the device again */

        /* Only the process callback touches these. */
        struct {
                jack_default_audio_sample_t *in[UDK_CHANNELS_MAX];
                jack_default_audio_sample_t *out[UDK_CHANNELS_MAX];
                jack_nframes_t next_frames; /* JACK's frame time the next cycle should have */
                bool have_next;
        } rt;
};

static int parse_bool(const char *value, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off",
                                                                                       "0" };

        for (size_t i = 0; i < UDK_ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int jack_set_option(void *instance, const char *key, const char *value, char *err, size_t err_size)
{
        struct jack_backend *j = instance;
        char *dst;

        if (strcmp(key, "autoconnect") == 0) {
                if (parse_bool(value, &j->autoconnect) < 0) {
                        snprintf(err, err_size, "autoconnect '%s' is not yes or no", value);
                        return -EINVAL;
                }
                return 0;
        }
        if (strcmp(key, "server") == 0)
                dst = j->server;
        else if (strcmp(key, "client_name") == 0)
                dst = j->client_name;
        else
                return -ENOENT;
        /* JACK's own limits: a client name of jack_client_name_size() bytes, a server name likewise. */
        if (!value[0] || strlen(value) >= JACK_NAME_MAX ||
            strlen(value) >= (size_t)jack_client_name_size()) {
                snprintf(err, err_size, "%s '%s' is empty or longer than %d characters", key, value,
                         UDK_MIN(JACK_NAME_MAX, jack_client_name_size()) - 1);
                return -EINVAL;
        }
        udk_strlcpy(dst, value, JACK_NAME_MAX);
        return 0;
}

static const char *server_name(const struct jack_backend *j)
{
        const char *env = getenv("JACK_DEFAULT_SERVER");

        if (j->server[0])
                return j->server;
        return env && env[0] ? env : "default";
}

/* JACK's status bits as words, for the error sentence. */
static void status_describe(jack_status_t status, char *buf, size_t size)
{
        static const struct {
                jack_status_t bit;
                const char *what;
        } bits[] = {
                { JackServerFailed, "no such server is running" },
                { JackServerError, "the server did not answer" },
                { JackVersionError, "the server speaks another protocol version" },
                { JackNameNotUnique, "the client name is taken" },
                { JackInitFailure, "the client could not be initialised" },
                { JackShmFailure, "JACK's shared memory is not accessible" },
                { JackNoSuchClient, "no such client" },
                { JackInvalidOption, "an invalid option" },
        };
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < UDK_ELEMENTSOF(bits); i++)
                if (status & bits[i].bit) {
                        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", bits[i].what);
                        len = strlen(buf);
                }
        if (!buf[0])
                snprintf(buf, size, "status 0x%x", (unsigned)status);
}

/* RT-safe: JACK's process callback, the device's cycle. */
static int jack_process(jack_nframes_t nframes, void *arg)
{
        struct jack_backend *j = arg;
        jack_nframes_t current_frames;
        jack_time_t current_usecs, next_usecs;
        float period_usecs;
        uint64_t skipped = 0, wake = udk_time_now(), boundary = wake;
        bool ran = false;

        for (uint32_t c = 0; c < j->in_ch; c++)
                j->rt.in[c] = jack_port_get_buffer(j->in_ports[c], nframes);
        for (uint32_t c = 0; c < j->out_ch; c++)
                j->rt.out[c] = jack_port_get_buffer(j->out_ports[c], nframes);

        /* Another buffer size: the device is being built again; silence until then. */
        if (nframes == j->period) {
                if (jack_get_cycle_times(j->client, &current_frames, &current_usecs, &next_usecs,
                                         &period_usecs) == 0) {
                        /* JACK's microseconds are on JACK's clock: the boundary
                         * is as old as JACK says, on udk's clock. */
                        jack_time_t age = jack_get_time() - current_usecs;
                        if (age < (jack_time_t)wake / 1000u)
                                boundary = wake - age * 1000u;
                        if (j->rt.have_next)
                                skipped = (jack_nframes_t)(current_frames - j->rt.next_frames);
                        j->rt.next_frames = current_frames + nframes;
                        j->rt.have_next = true;
                        /* JACK's frame counter wraps; a jump backwards is no xrun. */
                        if (skipped >= (1u << 31))
                                skipped = 0;
                }
                ran = udk_device_run_cycle(j->dev, wake, boundary, skipped) == 0;
        }
        if (!ran)
                for (uint32_t c = 0; c < j->out_ch; c++)
                        memset(j->rt.out[c], 0, nframes * sizeof(jack_default_audio_sample_t));
        return 0;
}

/* JACK's notification thread: a new period is a new device. */
static int jack_buffer_size(jack_nframes_t nframes, void *arg)
{
        struct jack_backend *j = arg;
        char why[128];

        if (nframes != j->period) {
                snprintf(why, sizeof(why), "JACK's buffer size is now %u frames", (unsigned)nframes);
                atomic_store(&j->rebuilding, true);
                udk_device_request(j->dev, UDK_DEVICE_REQUEST_RECONFIGURE, why);
        }
        return 0;
}

static int jack_sample_rate(jack_nframes_t nframes, void *arg)
{
        struct jack_backend *j = arg;
        char why[128];

        if (nframes != j->rate) {
                snprintf(why, sizeof(why), "JACK's sample rate is now %u Hz", (unsigned)nframes);
                atomic_store(&j->rebuilding, true);
                udk_device_request(j->dev, UDK_DEVICE_REQUEST_RECONFIGURE, why);
        }
        return 0;
}

/* The server stopped (or threw the client out): udkd removes the device. */
static void jack_shutdown(jack_status_t code, const char *reason, void *arg)
{
        struct jack_backend *j = arg;
        char why[256];

        atomic_store(&j->gone, true);
        snprintf(why, sizeof(why), "the JACK server '%s' went away: %s", server_name(j),
                 reason && reason[0] ? reason : "no reason given");
        udk_device_request(j->dev, UDK_DEVICE_REQUEST_REMOVE, why);
}

/*
 * The connections of a device's ports, kept from its close to the start of
 * the device built again after a new period or rate (JACK drops them with
 * the old client).  Control thread only.
 */
struct saved_link {
        char port[JACK_NAME_MAX + UDK_OBJECT_NAME_MAX]; /* ours, without the client's name */
        char peer[JACK_NAME_MAX * 4];
        bool ours_is_output;
};

struct saved_links {
        struct saved_links *next;
        char key[JACK_NAME_MAX + UDK_OBJECT_NAME_MAX + 2]; /* "server/device" */
        size_t n;
        struct saved_link links[];
};

static struct saved_links *saved;

static void saved_key(const struct jack_backend *j, char *key, size_t size)
{
        snprintf(key, size, "%s/%s", server_name(j), udk_device_config(j->dev)->name);
}

static size_t port_links(jack_port_t *port, const char ***ret)
{
        size_t n = 0;

        *ret = jack_port_get_connections(port);
        while (*ret && (*ret)[n])
                n++;
        return n;
}

static void links_save(struct jack_backend *j)
{
        jack_port_t *ports[UDK_CHANNELS_MAX * 2];
        struct saved_links *l;
        size_t n_ports = 0, total = 0;

        for (uint32_t c = 0; c < j->in_ch; c++)
                ports[n_ports++] = j->in_ports[c];
        for (uint32_t c = 0; c < j->out_ch; c++)
                ports[n_ports++] = j->out_ports[c];
        for (size_t i = 0; i < n_ports; i++) {
                const char **peers;
                total += port_links(ports[i], &peers);
                jack_free(peers);
        }
        if (total == 0)
                return;
        l = calloc(1, sizeof(*l) + total * sizeof(l->links[0]));
        if (!l) {
                udk_warn("device %s: no memory to keep its JACK connections",
                         udk_device_config(j->dev)->name);
                return;
        }
        saved_key(j, l->key, sizeof(l->key));
        for (size_t i = 0; i < n_ports; i++) {
                const char **peers;
                size_t n = port_links(ports[i], &peers);

                for (size_t k = 0; k < n && l->n < total; k++) {
                        struct saved_link *s = &l->links[l->n++];
                        udk_strlcpy(s->port, jack_port_short_name(ports[i]), sizeof(s->port));
                        udk_strlcpy(s->peer, peers[k], sizeof(s->peer));
                        s->ours_is_output = (jack_port_flags(ports[i]) & JackPortIsOutput) != 0;
                }
                jack_free(peers);
        }
        l->next = saved;
        saved = l;
}

/* After activation: the connections the device had before it was built again. */
static void links_restore(struct jack_backend *j)
{
        char key[sizeof(saved->key)], name[JACK_NAME_MAX * 2 + UDK_OBJECT_NAME_MAX];
        struct saved_links **at = &saved, *l;

        saved_key(j, key, sizeof(key));
        while (*at && strcmp((*at)->key, key) != 0)
                at = &(*at)->next;
        l = *at;
        if (!l)
                return;
        *at = l->next;
        for (size_t i = 0; i < l->n; i++) {
                const struct saved_link *s = &l->links[i];
                int r;

                snprintf(name, sizeof(name), "%s:%s", jack_get_client_name(j->client), s->port);
                r = s->ours_is_output ? jack_connect(j->client, name, s->peer)
                                      : jack_connect(j->client, s->peer, name);
                if (r != 0 && r != EEXIST)
                        udk_warn("device %s: cannot connect %s and %s again",
                                 udk_device_config(j->dev)->name, name, s->peer);
        }
        free(l);
}

/* What no rebuild took back by udkd's exit. */
__attribute__((destructor)) static void links_forget(void)
{
        while (saved) {
                struct saved_links *l = saved;
                saved = l->next;
                free(l);
        }
}

static void client_release(struct jack_backend *j)
{
        if (j->client)
                jack_client_close(j->client);
        j->client = NULL;
}

static int ports_register(struct jack_backend *j, const char *device, char *err, size_t err_size)
{
        char name[UDK_OBJECT_NAME_MAX + 16];

        for (uint32_t c = 0; c < j->in_ch; c++) {
                snprintf(name, sizeof(name), "%s_in_%u", device, c + 1);
                j->in_ports[c] =
                        jack_port_register(j->client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
                if (!j->in_ports[c]) {
                        snprintf(err, err_size, "JACK server '%s' refused the port %s", server_name(j),
                                 name);
                        return -EIO;
                }
        }
        for (uint32_t c = 0; c < j->out_ch; c++) {
                snprintf(name, sizeof(name), "%s_out_%u", device, c + 1);
                j->out_ports[c] =
                        jack_port_register(j->client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
                if (!j->out_ports[c]) {
                        snprintf(err, err_size, "JACK server '%s' refused the port %s", server_name(j),
                                 name);
                        return -EIO;
                }
        }
        return 0;
}

/* libjack's own messages: the backend says each failure in its own words
 * (the server absent, the server gone), so JACK's details are debug output. */
static void jack_says(const char *msg)
{
        udk_debug("JACK: %s", msg);
}

static int jack_open(void *instance, struct udk_device *dev, char *err, size_t err_size)
{
        struct jack_backend *j = instance;
        const struct udk_device_config *cfg = udk_device_config(dev);
        jack_status_t status = 0;
        char what[256];
        int r;

        if (!j->client_name[0])
                udk_strlcpy(j->client_name, "udkd", sizeof(j->client_name));
        j->dev = dev;
        jack_set_error_function(jack_says);
        jack_set_info_function(jack_says);
        /* udkd never starts a JACK server: one that is not there is an error. */
        j->client = jack_client_open(j->client_name, JackNoStartServer | JackServerName, &status,
                                     server_name(j));
        if (!j->client) {
                status_describe(status, what, sizeof(what));
                snprintf(err, err_size, "cannot connect to the JACK server '%s': %s", server_name(j), what);
                return -EHOSTDOWN;
        }
        j->rate = jack_get_sample_rate(j->client);
        j->period = jack_get_buffer_size(j->client);
        r = udk_device_set_timing(dev, j->rate, j->period, err, err_size);
        if (r < 0) {
                size_t len = strlen(err);
                snprintf(err + len, err_size - len, " (JACK server '%s' runs at %u Hz, %u frames)",
                         server_name(j), j->rate, j->period);
                client_release(j);
                return r;
        }
        cfg = udk_device_config(dev);
        j->in_ch = cfg->input_channels;
        j->out_ch = cfg->output_channels;

        r = ports_register(j, cfg->name, err, err_size);
        if (r == 0 && (jack_set_process_callback(j->client, jack_process, j) != 0 ||
                       jack_set_buffer_size_callback(j->client, jack_buffer_size, j) != 0 ||
                       jack_set_sample_rate_callback(j->client, jack_sample_rate, j) != 0)) {
                snprintf(err, err_size, "JACK server '%s' refused udkd's callbacks", server_name(j));
                r = -EIO;
        }
        if (r < 0) {
                client_release(j);
                return r;
        }
        jack_on_info_shutdown(j->client, jack_shutdown, j);
        udk_device_use_backend_thread(dev, jack_is_realtime(j->client) != 0,
                                      jack_client_real_time_priority(j->client));
        /* Within one JACK cycle: the ports' data is the period's, no added latency. */
        udk_device_set_latency(dev, UDK_DIRECTION_INPUT, 0, 0);
        udk_device_set_latency(dev, UDK_DIRECTION_OUTPUT, 0, 0);
        udk_info("device %s: JACK client '%s' of server '%s', %u Hz, %u frames", cfg->name,
                 jack_get_client_name(j->client), server_name(j), j->rate, j->period);
        return 0;
}

static void jack_close(void *instance)
{
        client_release(instance);
}

/* Connect @ports to the physical ports of @flags, in order, as far as both go. */
static void connect_physical(struct jack_backend *j, jack_port_t *const *ports, uint32_t n,
                             unsigned long flags, bool ours_are_sources)
{
        const char **phys =
                jack_get_ports(j->client, NULL, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | flags);

        if (!phys)
                return;
        for (uint32_t c = 0; c < n && phys[c]; c++) {
                const char *ours = jack_port_name(ports[c]);
                int r = ours_are_sources ? jack_connect(j->client, ours, phys[c])
                                         : jack_connect(j->client, phys[c], ours);
                if (r != 0 && r != EEXIST)
                        udk_warn("JACK: cannot connect %s and %s", ours, phys[c]);
        }
        jack_free(phys);
}

static int jack_start(void *instance, uint64_t *ret_start_time)
{
        struct jack_backend *j = instance;

        j->rt.have_next = false;
        *ret_start_time = udk_time_now();
        if (atomic_load(&j->gone))
                return -EHOSTDOWN;
        if (jack_activate(j->client) != 0)
                return -EIO;
        j->active = true;
        links_restore(j);
        if (j->autoconnect) {
                connect_physical(j, j->in_ports, j->in_ch, JackPortIsOutput, false);
                connect_physical(j, j->out_ports, j->out_ch, JackPortIsInput, true);
        }
        return 0;
}

/* jack_deactivate returns once the process callback is out of the cycle. */
static void jack_stop(void *instance)
{
        struct jack_backend *j = instance;

        /* Deactivating disconnects the ports: what a rebuild restores is taken first. */
        if (j->active && atomic_load(&j->rebuilding) && !atomic_load(&j->gone))
                links_save(j);
        if (j->active && !atomic_load(&j->gone))
                jack_deactivate(j->client);
        /* A server that went away leaves the client's thread to be joined,
         * before the device's segments go: jack_client_close does that. */
        if (atomic_load(&j->gone))
                client_release(j);
        j->active = false;
}

/* The backend's thread is JACK's: udk_device_start() never calls this. */
static int jack_wait(void *instance, uint64_t deadline, uint64_t *ret_wake_time, uint64_t *ret_boundary_time)
{
        return -EOPNOTSUPP;
}

/* RT-safe: the input ports into the input ring, interleaved. */
static int jack_read(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct jack_backend *j = instance;
        struct udk_stream *in = udk_device_stream(j->dev, UDK_DIRECTION_INPUT);
        float *dst;

        if (!in)
                return 0;
        dst = udk_stream_frames(in, sample_time);
        for (uint32_t c = 0; c < j->in_ch; c++) {
                const jack_default_audio_sample_t *src = j->rt.in[c];
                for (uint32_t f = 0; f < frames; f++)
                        dst[(size_t)f * j->in_ch + c] = src[f];
        }
        return 0;
}

/* RT-safe: the output ring into the output ports. */
static int jack_write(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct jack_backend *j = instance;
        struct udk_stream *out = udk_device_stream(j->dev, UDK_DIRECTION_OUTPUT);
        const float *src;

        if (!out)
                return 0;
        src = udk_stream_frames(out, sample_time);
        for (uint32_t c = 0; c < j->out_ch; c++) {
                jack_default_audio_sample_t *dst = j->rt.out[c];
                for (uint32_t f = 0; f < frames; f++)
                        dst[f] = src[(size_t)f * j->out_ch + c];
        }
        return 0;
}

const struct udk_backend_ops udk_backend_jack = {
        .version = UDK_BACKEND_ABI_VERSION,
        .name = "jack",
        .description = "a JACK client: JACK's clock, the device's channels as JACK ports",
        .instance_size = sizeof(struct jack_backend),
        .set_option = jack_set_option,
        .open = jack_open,
        .close = jack_close,
        .start = jack_start,
        .stop = jack_stop,
        .wait = jack_wait,
        .read = jack_read,
        .write = jack_write,
};
