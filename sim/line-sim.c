/*
 * line-sim: a bottle-line camera simulator that speaks real GigE Vision (GVCP control, GVSP
 * streaming) over loopback and streams real bottle images, so acquisition code can be tested
 * against Aravis without hardware.
 *
 * Usage
 *   line-sim --camera ADDRESS:SERIAL:FRAMEFILE [--camera ...] [--fps 28]
 *            [--trigger continuous|software] [--packet-size 8192]
 *
 *   ADDRESS    an IPv4 address of a loopback interface (127.0.0.1, or 127.0.0.2 after
 *              `ip addr add 127.0.0.2/8 dev lo`), or a loopback interface name ("lo", which
 *              means its first IPv4 address). Each camera needs its own address: GigE Vision
 *              control always listens on UDP port 3956.
 *   SERIAL     the camera's serial number (at most 15 characters); Aravis names the device
 *              "Aravis-Fake-SERIAL" (vendor-model-serial).
 *   FRAMEFILE  raw frames, usually written by tools/line-sim.ts (format below).
 *   --fps      frame rate of every camera in continuous mode; in software-trigger mode the most
 *              triggers per second a camera honours. Default 28.
 *   --trigger  continuous (free running, the default) or software (a frame per TriggerSoftware
 *              command from the client). A client may change either through GenICam.
 *   --packet-size  the GVSP packet size the cameras start with (a client may renegotiate it).
 *              Default 8192; loopback has a 64 KiB MTU.
 *
 * Prints one line per camera on stdout once all are serving:
 *   line-sim: camera SERIAL on ADDRESS, WxH Mono8, N frames
 * and runs until SIGINT or SIGTERM, then stops the cameras, prints how many frames each sent
 * (stderr) and exits 0. Exits 2 on a usage error, 1 when a camera cannot be set up.
 *
 * Frame file (all integers little-endian u32)
 *   offset  0  magic "LSIMFRM1" (8 bytes)
 *   offset  8  header size in bytes (32)
 *   offset 12  width
 *   offset 16  height
 *   offset 20  pixel format, PFNC code (0x01080001 = Mono8, the only one supported)
 *   offset 24  frame count N
 *   offset 28  reserved, 0
 *   then N frames of width*height bytes each, rows top to bottom, no padding.
 *
 * Which frame goes out: a frame whose GVSP block id (ArvBuffer frame id) is F carries frame
 * F mod N of the file, pixel for pixel. Block ids count up by one per frame, so the file plays
 * in order and loops; GigE Vision 1.x block ids are 16 bit and skip 0, so once every 65535
 * frames the playback jumps, but the rule above still holds for every frame a receiver gets.
 * The timestamp is the camera's real clock (ns), untouched.
 *
 * Safety: this is a test tool. It only serves addresses of loopback interfaces and refuses
 * anything else, so no GVSP stream can leave the machine. Aravis's fake camera also answers
 * discovery broadcasts (it binds 255.255.255.255:3956); run it inside a network namespace
 * (`unshare -n`) when other Aravis programs share the machine.
 *
 * Aravis owns the network side (ArvGvFakeCamera: one thread per camera serving GVCP and sending
 * GVSP); this file configures each camera's registers and supplies a fill-pattern callback that
 * copies the right frame into the buffer Aravis is about to send.
 */

#define _GNU_SOURCE

#include <arv.h>
#include <glib-unix.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FRAME_FILE_MAGIC "LSIMFRM1"
#define FRAME_FILE_HEADER_BYTES 32u
#define PFNC_MONO8 0x01080001u
#define MAX_CAMERAS 16
#define MAX_SIDE 16384u
/* GigE Vision control port, and the bootstrap register "stream channel 0 packet size" (SCPS0).
 * Both come from the GigE Vision standard; Aravis keeps its own names for them private. */
#define GVCP_PORT 3956
#define GVBS_SCPS0_OFFSET 0x0d04u
#define MIN_PACKET_SIZE 576u
#define MAX_PACKET_SIZE 65000u

#define EXIT_USAGE 2

typedef struct {
	/* From the command line; all owned (g_free). */
	char *address;       /* numeric IPv4 address the camera is bound to */
	char *serial;
	char *frame_path;

	/* The frame file, mapped read-only; owned (munmap). `pixels` points into it. */
	void *map;
	size_t map_bytes;
	const guint8 *pixels;
	guint32 width;
	guint32 height;
	guint32 n_frames;
	size_t frame_bytes;

	/* Owned reference (g_object_unref), NULL until created. Dropping it stops the camera's
	 * thread and closes its sockets before returning. */
	ArvGvFakeCamera *gv_camera;

	/* Touched by the camera's thread inside the fill callback, read by main after it stops. */
	gint format_warned;    /* atomic flag: warned once about a client-changed format */
	gint frames_filled;    /* atomic counter */
} SimCamera;

typedef struct {
	SimCamera cameras[MAX_CAMERAS];
	unsigned n_cameras;
	double fps;
	gboolean software_trigger;
	guint32 packet_size;
} SimConfig;

static void
usage (FILE *out)
{
	fputs ("usage: line-sim --camera ADDRESS:SERIAL:FRAMEFILE [--camera ...] [--fps 28]\n"
	       "                [--trigger continuous|software] [--packet-size 8192]\n"
	       "\n"
	       "Serves fake GigE Vision cameras on loopback addresses, each streaming the Mono8\n"
	       "frames of its frame file in order, looping. ADDRESS is an IPv4 address of a\n"
	       "loopback interface (or its name, e.g. lo); one camera per address. The frame\n"
	       "with GVSP block id F carries frame F mod N of the file. Stop with SIGINT/SIGTERM.\n"
	       "Frame files are usually written by tools/line-sim.ts; see the top of line-sim.c\n"
	       "for their format. Run inside `unshare -n` when other Aravis programs share the\n"
	       "machine: fake cameras answer discovery broadcasts.\n",
	       out);
}

static gboolean
parse_u32 (const char *text, guint32 min, guint32 max, guint32 *out)
{
	char *end = NULL;
	unsigned long value;

	errno = 0;
	value = strtoul (text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return FALSE;
	*out = (guint32) value;
	return TRUE;
}

static guint32
read_le32 (const guint8 *p)
{
	return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

/*
 * Resolves ADDRESS (an IPv4 literal or an interface name) to the numeric address of an up,
 * loopback interface. Returns a newly allocated string (g_free) or NULL with *why set.
 */
static char *
resolve_loopback_address (const char *spec, char **why)
{
	struct ifaddrs *ifaddrs = NULL;
	struct in_addr wanted;
	gboolean is_literal;
	char *result = NULL;
	gboolean found_not_loopback = FALSE;

	is_literal = inet_pton (AF_INET, spec, &wanted) == 1;

	if (getifaddrs (&ifaddrs) != 0) {
		*why = g_strdup_printf ("cannot list network interfaces: %s", g_strerror (errno));
		return NULL;
	}
	for (struct ifaddrs *it = ifaddrs; it != NULL; it = it->ifa_next) {
		const struct sockaddr_in *sin;
		gboolean match;
		char text[INET_ADDRSTRLEN];

		if (it->ifa_addr == NULL || it->ifa_addr->sa_family != AF_INET)
			continue;
		sin = (const struct sockaddr_in *) it->ifa_addr;
		match = is_literal ? sin->sin_addr.s_addr == wanted.s_addr : strcmp (it->ifa_name, spec) == 0;
		if (!match)
			continue;
		if ((it->ifa_flags & IFF_LOOPBACK) == 0 || (it->ifa_flags & IFF_UP) == 0) {
			found_not_loopback = TRUE;
			continue;
		}
		if (inet_ntop (AF_INET, &sin->sin_addr, text, sizeof text) != NULL) {
			result = g_strdup (text);
			break;
		}
	}
	freeifaddrs (ifaddrs);

	if (result == NULL) {
		if (found_not_loopback)
			*why = g_strdup_printf ("%s is not an address of an up loopback interface; line-sim only "
						"serves loopback so that no stream leaves the machine", spec);
		else if (is_literal)
			*why = g_strdup_printf ("no interface has the address %s (add it first, e.g. "
						"`ip addr add %s/8 dev lo`)", spec, spec);
		else
			*why = g_strdup_printf ("no interface named %s with an IPv4 address", spec);
	}
	return result;
}

/*
 * Aravis binds the camera's GVCP socket but only logs a warning when that fails, so a second
 * simulator (or a real fake camera) on the same address would fail silently. Bind the port
 * ourselves first, then release it, to turn that into a clear error.
 */
static gboolean
check_gvcp_port_free (const char *address, char **why)
{
	struct sockaddr_in sin;
	int fd;

	memset (&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons (GVCP_PORT);
	if (inet_pton (AF_INET, address, &sin.sin_addr) != 1) {
		*why = g_strdup_printf ("%s is not an IPv4 address", address);
		return FALSE;
	}
	fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = g_strdup_printf ("cannot create a UDP socket: %s", g_strerror (errno));
		return FALSE;
	}
	if (bind (fd, (const struct sockaddr *) &sin, sizeof sin) != 0) {
		int err = errno;

		close (fd);
		*why = g_strdup_printf ("cannot bind %s:%d (%s)%s", address, GVCP_PORT, g_strerror (err),
					err == EADDRINUSE ? "; another camera or simulator already serves it" : "");
		return FALSE;
	}
	close (fd);
	return TRUE;
}

/* Maps and checks a frame file. On failure nothing stays mapped and *why says what was wrong. */
static gboolean
load_frame_file (SimCamera *cam, char **why)
{
	struct stat st;
	const guint8 *header;
	guint32 header_bytes, pixel_format;
	guint64 expected;
	int fd;

	fd = open (cam->frame_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = g_strdup_printf ("cannot open frame file %s: %s", cam->frame_path, g_strerror (errno));
		return FALSE;
	}
	if (fstat (fd, &st) != 0) {
		*why = g_strdup_printf ("cannot stat frame file %s: %s", cam->frame_path, g_strerror (errno));
		close (fd);
		return FALSE;
	}
	if (!S_ISREG (st.st_mode) || (guint64) st.st_size < FRAME_FILE_HEADER_BYTES) {
		*why = g_strdup_printf ("frame file %s is not a regular file of at least %u bytes",
					cam->frame_path, FRAME_FILE_HEADER_BYTES);
		close (fd);
		return FALSE;
	}
	cam->map_bytes = (size_t) st.st_size;
	cam->map = mmap (NULL, cam->map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	close (fd); /* the mapping keeps the file */
	if (cam->map == MAP_FAILED) {
		cam->map = NULL;
		*why = g_strdup_printf ("cannot map frame file %s: %s", cam->frame_path, g_strerror (errno));
		return FALSE;
	}

	header = cam->map;
	header_bytes = read_le32 (header + 8);
	cam->width = read_le32 (header + 12);
	cam->height = read_le32 (header + 16);
	pixel_format = read_le32 (header + 20);
	cam->n_frames = read_le32 (header + 24);

	if (memcmp (header, FRAME_FILE_MAGIC, 8) != 0) {
		*why = g_strdup_printf ("%s is not a line-sim frame file (magic is not %s)", cam->frame_path,
					FRAME_FILE_MAGIC);
	} else if (header_bytes != FRAME_FILE_HEADER_BYTES) {
		*why = g_strdup_printf ("%s: header size %u, expected %u", cam->frame_path, header_bytes,
					FRAME_FILE_HEADER_BYTES);
	} else if (pixel_format != PFNC_MONO8) {
		*why = g_strdup_printf ("%s: pixel format 0x%08x, only Mono8 (0x%08x) is supported",
					cam->frame_path, pixel_format, PFNC_MONO8);
	} else if (cam->width == 0 || cam->height == 0 || cam->width > MAX_SIDE || cam->height > MAX_SIDE) {
		*why = g_strdup_printf ("%s: frame size %ux%u, expected 1..%u on each side", cam->frame_path,
					cam->width, cam->height, MAX_SIDE);
	} else if (cam->n_frames == 0) {
		*why = g_strdup_printf ("%s holds no frames", cam->frame_path);
	} else {
		cam->frame_bytes = (size_t) cam->width * cam->height;
		expected = FRAME_FILE_HEADER_BYTES + (guint64) cam->frame_bytes * cam->n_frames;
		if (expected != (guint64) cam->map_bytes) {
			*why = g_strdup_printf ("%s is %zu bytes, but its header (%u frames of %ux%u) needs %"
						G_GUINT64_FORMAT, cam->frame_path, cam->map_bytes, cam->n_frames,
						cam->width, cam->height, expected);
		} else {
			cam->pixels = header + FRAME_FILE_HEADER_BYTES;
			return TRUE;
		}
	}
	munmap (cam->map, cam->map_bytes);
	cam->map = NULL;
	return FALSE;
}

/*
 * Fill-pattern callback, run by the camera's Aravis thread (under the fake camera's fill mutex)
 * right before the buffer is sent. Aravis has already set the buffer's frame id, timestamp,
 * width, height and pixel format from the camera's registers, and checked that the buffer holds
 * at least width*height*bytes-per-pixel bytes.
 */
static void
fill_frame (ArvBuffer *buffer, void *user_data, guint32 exposure_time_us, guint32 gain,
	    ArvPixelFormat pixel_format)
{
	SimCamera *cam = user_data;
	guint8 *dst;
	gint width, height;
	guint64 frame_id;

	(void) exposure_time_us;
	(void) gain;

	/* The buffer is Aravis's own send buffer; the API hands it out const, but filling it is what
	 * this callback is for. */
	dst = (guint8 *) arv_buffer_get_data (buffer, NULL);
	width = arv_buffer_get_image_width (buffer);
	height = arv_buffer_get_image_height (buffer);
	if (dst == NULL || width <= 0 || height <= 0)
		return;

	if (pixel_format != ARV_PIXEL_FORMAT_MONO_8 || (guint32) width != cam->width ||
	    (guint32) height != cam->height) {
		/* A client changed Width, Height or PixelFormat through GenICam. Send black rather than
		 * a wrong crop, and say so once. Every supported format has >= 8 bits per pixel, so
		 * width*height bytes are within the buffer. */
		memset (dst, 0, (size_t) width * (size_t) height);
		if (g_atomic_int_compare_and_exchange (&cam->format_warned, 0, 1))
			fprintf (stderr, "line-sim: camera %s: client set %dx%d format 0x%08x, frames are "
				 "%ux%u Mono8; sending black frames until it is set back\n",
				 cam->serial, width, height, (unsigned) pixel_format, cam->width, cam->height);
		return;
	}

	frame_id = arv_buffer_get_frame_id (buffer);
	memcpy (dst, cam->pixels + (size_t) (frame_id % cam->n_frames) * cam->frame_bytes, cam->frame_bytes);
	g_atomic_int_inc (&cam->frames_filled);
}

static gboolean
write_register (ArvFakeCamera *fake, const SimCamera *cam, const char *name, guint32 address, guint32 value)
{
	guint32 readback = 0;

	if (!arv_fake_camera_write_register (fake, address, value) ||
	    !arv_fake_camera_read_register (fake, address, &readback) || readback != value) {
		fprintf (stderr, "line-sim: camera %s: cannot set %s (register 0x%04x) to %u\n", cam->serial,
			 name, address, value);
		return FALSE;
	}
	return TRUE;
}

/* Creates and configures one camera. On failure cam->gv_camera stays NULL. */
static gboolean
start_camera (SimCamera *cam, const SimConfig *config)
{
	ArvGvFakeCamera *gv_camera;
	ArvFakeCamera *fake; /* borrowed from gv_camera (transfer none), valid while it lives */
	guint32 period_us;
	gboolean ok = TRUE;

	/* Returns a new reference we own. The camera starts serving from its own thread at once. */
	gv_camera = arv_gv_fake_camera_new_full (cam->address, cam->serial, NULL);
	if (gv_camera == NULL) {
		fprintf (stderr, "line-sim: camera %s: Aravis could not create a fake GigE Vision camera\n",
			 cam->serial);
		return FALSE;
	}
	if (!arv_gv_fake_camera_is_running (gv_camera)) {
		fprintf (stderr, "line-sim: camera %s: Aravis could not start serving on %s\n", cam->serial,
			 cam->address);
		g_object_unref (gv_camera);
		return FALSE;
	}
	fake = arv_gv_fake_camera_get_fake_camera (gv_camera);
	if (fake == NULL) {
		fprintf (stderr, "line-sim: camera %s: Aravis returned no fake camera device\n", cam->serial);
		g_object_unref (gv_camera);
		return FALSE;
	}

	/* Images first, so that no frame of Aravis's default ramp can ever be sent. */
	arv_fake_camera_set_fill_pattern (fake, fill_frame, cam);

	period_us = (guint32) lround (1e6 / config->fps);
	ok = ok && write_register (fake, cam, "SensorWidth", ARV_FAKE_CAMERA_REGISTER_SENSOR_WIDTH, cam->width);
	ok = ok && write_register (fake, cam, "SensorHeight", ARV_FAKE_CAMERA_REGISTER_SENSOR_HEIGHT, cam->height);
	ok = ok && write_register (fake, cam, "BinningHorizontal", ARV_FAKE_CAMERA_REGISTER_BINNING_HORIZONTAL, 1);
	ok = ok && write_register (fake, cam, "BinningVertical", ARV_FAKE_CAMERA_REGISTER_BINNING_VERTICAL, 1);
	ok = ok && write_register (fake, cam, "OffsetX", ARV_FAKE_CAMERA_REGISTER_X_OFFSET, 0);
	ok = ok && write_register (fake, cam, "OffsetY", ARV_FAKE_CAMERA_REGISTER_Y_OFFSET, 0);
	ok = ok && write_register (fake, cam, "Width", ARV_FAKE_CAMERA_REGISTER_WIDTH, cam->width);
	ok = ok && write_register (fake, cam, "Height", ARV_FAKE_CAMERA_REGISTER_HEIGHT, cam->height);
	ok = ok && write_register (fake, cam, "PixelFormat", ARV_FAKE_CAMERA_REGISTER_PIXEL_FORMAT,
				   ARV_PIXEL_FORMAT_MONO_8);
	ok = ok && write_register (fake, cam, "AcquisitionFramePeriod",
				   ARV_FAKE_CAMERA_REGISTER_ACQUISITION_FRAME_PERIOD_US, period_us);
	/* TriggerMode On with TriggerSource 1 (Software) is what the fake camera's GenICam writes
	 * for `TriggerSource=Software`; Off means free running at the frame period above. */
	ok = ok && write_register (fake, cam, "TriggerMode", ARV_FAKE_CAMERA_REGISTER_TRIGGER_MODE,
				   config->software_trigger ? 1 : 0);
	ok = ok && write_register (fake, cam, "TriggerSource", ARV_FAKE_CAMERA_REGISTER_TRIGGER_SOURCE,
				   config->software_trigger ? 1 : 0);
	ok = ok && write_register (fake, cam, "GevSCPSPacketSize", GVBS_SCPS0_OFFSET, config->packet_size);
	if (!ok) {
		g_object_unref (gv_camera);
		return FALSE;
	}
	/* How often the camera's thread looks for a software trigger: the set rate. */
	arv_fake_camera_set_trigger_frequency (fake, config->fps);

	cam->gv_camera = gv_camera; /* ownership moves to cam */
	return TRUE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
	GMainLoop *loop = user_data; /* borrowed; main owns it */

	g_main_loop_quit (loop);
	return G_SOURCE_CONTINUE;
}

/* Splits ADDRESS:SERIAL:FRAMEFILE; the file part may itself contain colons. */
static gboolean
parse_camera_spec (const char *spec, SimCamera *cam, char **why)
{
	const char *first = strchr (spec, ':');
	const char *second = first != NULL ? strchr (first + 1, ':') : NULL;

	if (first == NULL || second == NULL || first == spec || second == first + 1 || second[1] == '\0') {
		*why = g_strdup_printf ("--camera %s: expected ADDRESS:SERIAL:FRAMEFILE", spec);
		return FALSE;
	}
	cam->address = g_strndup (spec, (gsize) (first - spec)); /* replaced by the resolved address */
	cam->serial = g_strndup (first + 1, (gsize) (second - first - 1));
	cam->frame_path = g_strdup (second + 1);
	if (strlen (cam->serial) > 15) {
		*why = g_strdup_printf ("--camera %s: serial %s is longer than 15 characters", spec, cam->serial);
		return FALSE;
	}
	return TRUE;
}

static void
free_camera (SimCamera *cam)
{
	g_clear_object (&cam->gv_camera); /* stops and joins the camera's thread */
	if (cam->map != NULL)
		munmap (cam->map, cam->map_bytes);
	cam->map = NULL;
	g_clear_pointer (&cam->address, g_free);
	g_clear_pointer (&cam->serial, g_free);
	g_clear_pointer (&cam->frame_path, g_free);
}

int
main (int argc, char **argv)
{
	static const struct option options[] = {
		{ "camera", required_argument, NULL, 'c' },
		{ "fps", required_argument, NULL, 'f' },
		{ "trigger", required_argument, NULL, 't' },
		{ "packet-size", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	SimConfig config;
	GMainLoop *loop = NULL; /* owned */
	guint sigint_id = 0, sigterm_id = 0;
	char *why = NULL;
	int status = EXIT_FAILURE;
	int opt;

	memset (&config, 0, sizeof config);
	config.fps = 28.0;
	config.packet_size = 8192;
	/* Whoever reads the ready lines through a pipe must see them at once. */
	setvbuf (stdout, NULL, _IOLBF, 0);

	while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
		char *end = NULL;

		switch (opt) {
		case 'c':
			if (config.n_cameras == MAX_CAMERAS) {
				fprintf (stderr, "line-sim: at most %d cameras\n", MAX_CAMERAS);
				status = EXIT_USAGE;
				goto out;
			}
			if (!parse_camera_spec (optarg, &config.cameras[config.n_cameras++], &why)) {
				fprintf (stderr, "line-sim: %s\n", why);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 'f':
			errno = 0;
			config.fps = strtod (optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(config.fps >= 0.1 && config.fps <= 1000.0)) {
				fprintf (stderr, "line-sim: --fps %s: expected a number from 0.1 to 1000\n", optarg);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 't':
			if (strcmp (optarg, "continuous") == 0) {
				config.software_trigger = FALSE;
			} else if (strcmp (optarg, "software") == 0) {
				config.software_trigger = TRUE;
			} else {
				fprintf (stderr, "line-sim: --trigger %s: expected continuous or software\n", optarg);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 'p':
			if (!parse_u32 (optarg, MIN_PACKET_SIZE, MAX_PACKET_SIZE, &config.packet_size)) {
				fprintf (stderr, "line-sim: --packet-size %s: expected a whole number %u..%u\n", optarg,
					 MIN_PACKET_SIZE, MAX_PACKET_SIZE);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 'h':
			usage (stdout);
			status = EXIT_SUCCESS;
			goto out;
		default:
			usage (stderr);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf (stderr, "line-sim: unexpected argument %s (try --help)\n", argv[optind]);
		status = EXIT_USAGE;
		goto out;
	}
	if (config.n_cameras == 0) {
		fprintf (stderr, "line-sim: give at least one --camera ADDRESS:SERIAL:FRAMEFILE (try --help)\n");
		status = EXIT_USAGE;
		goto out;
	}

	/* Check everything before any camera starts answering the network. */
	for (unsigned i = 0; i < config.n_cameras; i++) {
		SimCamera *cam = &config.cameras[i];
		char *resolved = resolve_loopback_address (cam->address, &why);

		if (resolved == NULL) {
			fprintf (stderr, "line-sim: camera %s: %s\n", cam->serial, why);
			goto out;
		}
		g_free (cam->address);
		cam->address = resolved;
		for (unsigned j = 0; j < i; j++) {
			if (strcmp (config.cameras[j].address, cam->address) == 0) {
				fprintf (stderr, "line-sim: cameras %s and %s both want %s; each needs its own address\n",
					 config.cameras[j].serial, cam->serial, cam->address);
				status = EXIT_USAGE;
				goto out;
			}
			if (strcmp (config.cameras[j].serial, cam->serial) == 0) {
				fprintf (stderr, "line-sim: two cameras have the serial %s\n", cam->serial);
				status = EXIT_USAGE;
				goto out;
			}
		}
		if (!check_gvcp_port_free (cam->address, &why)) {
			fprintf (stderr, "line-sim: camera %s: %s\n", cam->serial, why);
			goto out;
		}
		if (!load_frame_file (cam, &why)) {
			fprintf (stderr, "line-sim: camera %s: %s\n", cam->serial, why);
			goto out;
		}
	}

	loop = g_main_loop_new (NULL, FALSE);
	/* Signal handlers go in before any camera starts, so a signal never kills us mid-setup
	 * without stopping the camera threads. */
	sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, loop);
	sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, loop);

	for (unsigned i = 0; i < config.n_cameras; i++) {
		if (!start_camera (&config.cameras[i], &config))
			goto out;
	}
	for (unsigned i = 0; i < config.n_cameras; i++) {
		const SimCamera *cam = &config.cameras[i];

		printf ("line-sim: camera %s on %s, %ux%u Mono8, %u frames\n", cam->serial, cam->address,
			cam->width, cam->height, cam->n_frames);
	}
	fprintf (stderr, "line-sim: %u camera(s), %s at %.3g fps, packet size %u; stop with SIGINT or SIGTERM\n",
		 config.n_cameras, config.software_trigger ? "software trigger" : "continuous", config.fps,
		 config.packet_size);

	g_main_loop_run (loop);

	for (unsigned i = 0; i < config.n_cameras; i++)
		g_clear_object (&config.cameras[i].gv_camera); /* joins each camera's thread */
	for (unsigned i = 0; i < config.n_cameras; i++)
		fprintf (stderr, "line-sim: camera %s sent %d frames\n", config.cameras[i].serial,
			 g_atomic_int_get (&config.cameras[i].frames_filled));
	status = EXIT_SUCCESS;

out:
	for (unsigned i = 0; i < config.n_cameras; i++)
		free_camera (&config.cameras[i]);
	if (sigint_id != 0)
		g_source_remove (sigint_id);
	if (sigterm_id != 0)
		g_source_remove (sigterm_id);
	if (loop != NULL)
		g_main_loop_unref (loop);
	g_free (why);
	return status;
}
