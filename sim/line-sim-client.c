/*
 * line-sim-client: receives frames from one GigE Vision camera with Aravis and prints a SHA-256
 * of each, so a test can prove that line-sim's frames arrive intact and in order.
 *
 * Usage
 *   line-sim-client --address 127.0.0.2 [--frames 10] [--socket-buffer 8388608]
 *                   [--packet-size N] [--timeout-ms 2000]
 *
 * Opens the camera by IP address (no discovery), uses the plain socket receive path (Aravis's
 * packet-socket path receives nothing on loopback) with a fixed socket buffer of the given size
 * (the kernel default drops most packets of a 2 MP frame), starts continuous acquisition and
 * prints, for each of the first --frames buffers:
 *   frame id=F status=S width=W height=H format=0xPPPPPPPP timestamp=T sha256=HEX
 * then one summary line:
 *   summary frames=K completed=C failures=X underruns=U missing_packets=M resent_packets=R fps=Z
 * where fps comes from the buffers' system timestamps. Exits 0 when every buffer it printed was
 * complete, 1 otherwise (including a timeout), 2 on a usage error.
 */

#define _GNU_SOURCE

#include <arv.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STREAM_BUFFERS 8

static gboolean
parse_uint (const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long value;

	errno = 0;
	value = strtoul (text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return FALSE;
	*out = value;
	return TRUE;
}

static const char *
status_name (ArvBufferStatus status)
{
	switch (status) {
	case ARV_BUFFER_STATUS_SUCCESS: return "success";
	case ARV_BUFFER_STATUS_CLEARED: return "cleared";
	case ARV_BUFFER_STATUS_TIMEOUT: return "timeout";
	case ARV_BUFFER_STATUS_MISSING_PACKETS: return "missing_packets";
	case ARV_BUFFER_STATUS_WRONG_PACKET_ID: return "wrong_packet_id";
	case ARV_BUFFER_STATUS_SIZE_MISMATCH: return "size_mismatch";
	case ARV_BUFFER_STATUS_FILLING: return "filling";
	case ARV_BUFFER_STATUS_ABORTED: return "aborted";
	default: return "unknown";
	}
}

int
main (int argc, char **argv)
{
	static const struct option options[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "frames", required_argument, NULL, 'n' },
		{ "socket-buffer", required_argument, NULL, 'b' },
		{ "packet-size", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *address = NULL;
	unsigned long n_frames = 10, socket_buffer = 8u << 20, packet_size = 0, timeout_ms = 2000;
	ArvCamera *camera = NULL;    /* owned */
	ArvStream *stream = NULL;    /* owned */
	GError *error = NULL;        /* owned while set */
	gboolean acquiring = FALSE;
	unsigned long n_printed = 0, n_bad = 0;
	guint64 first_ts = 0, last_ts = 0;
	guint64 n_completed = 0, n_failures = 0, n_underruns = 0, n_resent = 0, n_missing = 0;
	size_t payload;
	int status = 1;
	int opt;

	setvbuf (stdout, NULL, _IOLBF, 0);
	while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
		gboolean ok = TRUE;

		switch (opt) {
		case 'a': address = optarg; break;
		case 'n': ok = parse_uint (optarg, 1, 1000000, &n_frames); break;
		case 'b': ok = parse_uint (optarg, 65536, 1ul << 30, &socket_buffer); break;
		case 'p': ok = parse_uint (optarg, 576, 65000, &packet_size); break;
		case 't': ok = parse_uint (optarg, 1, 600000, &timeout_ms); break;
		case 'h':
			puts ("usage: line-sim-client --address IP [--frames 10] [--socket-buffer BYTES] "
			      "[--packet-size N] [--timeout-ms 2000]");
			return 0;
		default:
			return 2;
		}
		if (!ok) {
			fprintf (stderr, "line-sim-client: bad value %s (try --help)\n", optarg);
			return 2;
		}
	}
	if (address == NULL || optind < argc) {
		fprintf (stderr, "line-sim-client: give --address IP and no other arguments\n");
		return 2;
	}

	/* An IP address as the name makes Aravis open the device directly, without discovery. */
	camera = arv_camera_new (address, &error);
	if (camera == NULL) {
		fprintf (stderr, "line-sim-client: cannot open camera %s: %s\n", address,
			 error != NULL ? error->message : "no error given");
		goto out;
	}
	if (!arv_camera_is_gv_device (camera)) {
		fprintf (stderr, "line-sim-client: %s is not a GigE Vision device\n", address);
		goto out;
	}
	arv_camera_gv_set_stream_options (camera, ARV_GV_STREAM_OPTION_PACKET_SOCKET_DISABLED);
	if (packet_size != 0) {
		arv_camera_gv_set_packet_size (camera, (gint) packet_size, &error);
		if (error != NULL) {
			fprintf (stderr, "line-sim-client: cannot set packet size %lu: %s\n", packet_size, error->message);
			goto out;
		}
	}
	arv_camera_set_acquisition_mode (camera, ARV_ACQUISITION_MODE_CONTINUOUS, &error);
	if (error != NULL) {
		fprintf (stderr, "line-sim-client: cannot set continuous acquisition: %s\n", error->message);
		goto out;
	}
	payload = (size_t) arv_camera_get_payload (camera, &error);
	if (error != NULL || payload == 0) {
		fprintf (stderr, "line-sim-client: cannot read the payload size: %s\n",
			 error != NULL ? error->message : "it is 0");
		goto out;
	}

	stream = arv_camera_create_stream (camera, NULL, NULL, &error);
	if (stream == NULL) {
		fprintf (stderr, "line-sim-client: cannot create a stream: %s\n",
			 error != NULL ? error->message : "no error given");
		goto out;
	}
	g_object_set (stream,
		      "socket-buffer", ARV_GV_STREAM_SOCKET_BUFFER_FIXED,
		      "socket-buffer-size", (gint) socket_buffer,
		      "packet-resend", ARV_GV_STREAM_PACKET_RESEND_NEVER,
		      NULL);
	/* The stream takes ownership of each pushed buffer. */
	for (int i = 0; i < N_STREAM_BUFFERS; i++)
		arv_stream_push_buffer (stream, arv_buffer_new_allocate (payload));

	arv_camera_start_acquisition (camera, &error);
	if (error != NULL) {
		fprintf (stderr, "line-sim-client: cannot start acquisition: %s\n", error->message);
		goto out;
	}
	acquiring = TRUE;

	while (n_printed < n_frames) {
		/* Ownership of a popped buffer is ours until pushed back. */
		ArvBuffer *buffer = arv_stream_timeout_pop_buffer (stream, (guint64) timeout_ms * 1000);
		ArvBufferStatus buffer_status;
		const void *data = NULL;
		size_t size = 0;

		if (buffer == NULL) {
			fprintf (stderr, "line-sim-client: no frame from %s within %lu ms (%lu of %lu received)\n",
				 address, timeout_ms, n_printed, n_frames);
			goto out;
		}
		buffer_status = arv_buffer_get_status (buffer);
		if (buffer_status == ARV_BUFFER_STATUS_SUCCESS &&
		    arv_buffer_get_payload_type (buffer) == ARV_BUFFER_PAYLOAD_TYPE_IMAGE &&
		    (data = arv_buffer_get_image_data (buffer, &size)) != NULL) {
			char *digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);

			printf ("frame id=%" G_GUINT64_FORMAT " status=%s width=%d height=%d format=0x%08x "
				"timestamp=%" G_GUINT64_FORMAT " sha256=%s\n",
				arv_buffer_get_frame_id (buffer), status_name (buffer_status),
				arv_buffer_get_image_width (buffer), arv_buffer_get_image_height (buffer),
				(unsigned) arv_buffer_get_image_pixel_format (buffer),
				arv_buffer_get_timestamp (buffer), digest);
			g_free (digest);
		} else {
			/* An incomplete buffer's image fields may be unset: print only what is known. */
			printf ("frame id=%" G_GUINT64_FORMAT " status=%s\n", arv_buffer_get_frame_id (buffer),
				status_name (buffer_status));
			n_bad++;
		}
		if (n_printed == 0)
			first_ts = arv_buffer_get_system_timestamp (buffer);
		last_ts = arv_buffer_get_system_timestamp (buffer);
		n_printed++;
		arv_stream_push_buffer (stream, buffer); /* back to the stream */
	}
	status = n_bad == 0 ? 0 : 1;

out:
	if (acquiring) {
		GError *stop_error = NULL;

		arv_camera_stop_acquisition (camera, &stop_error);
		if (stop_error != NULL) {
			fprintf (stderr, "line-sim-client: cannot stop acquisition: %s\n", stop_error->message);
			g_clear_error (&stop_error);
		}
	}
	if (stream != NULL) {
		arv_stream_get_statistics (stream, &n_completed, &n_failures, &n_underruns);
		if (ARV_IS_GV_STREAM (stream))
			arv_gv_stream_get_statistics (ARV_GV_STREAM (stream), &n_resent, &n_missing);
		printf ("summary frames=%lu completed=%" G_GUINT64_FORMAT " failures=%" G_GUINT64_FORMAT
			" underruns=%" G_GUINT64_FORMAT " missing_packets=%" G_GUINT64_FORMAT
			" resent_packets=%" G_GUINT64_FORMAT " fps=%.2f\n",
			n_printed, n_completed, n_failures, n_underruns, n_missing, n_resent,
			n_printed > 1 && last_ts > first_ts ? (n_printed - 1) * 1e9 / (double) (last_ts - first_ts) : 0.0);
	}
	g_clear_object (&stream);
	g_clear_object (&camera);
	if (error != NULL)
		g_error_free (error);
	return status;
}
