# provisioner settings: copy to instance/config.py and change what you need.
# Every key may also be set as an environment variable PROVISIONER_<KEY> (JSON-decoded),
# which wins over this file. Unset keys keep the defaults shown here.

# --- Required for production (the defaults are the embedded demo setup) ---------------------

# SQLite file in the instance folder by default; PostgreSQL for several workers or hosts.
DATABASE_URL = "postgresql+psycopg://provisioner@db.example.net/provisioner"
# Fernet key(s) for secrets at rest, newest first, comma-separated. Without it a key file is
# created as instance/secrets.key (mode 600): back it up, or stored secrets become unreadable.
# SECRETS_KEY = "..."
# Shared rate limits and Digest nonce uses across workers; while unset or unreachable, limits
# are counted per process and nonce uses kept in the database.
REDIS_URL = "redis://127.0.0.1:6379/0"
# The URL phones are sent to (their provisioning server); needed when HTTP listens on 0.0.0.0.
PHONE_BASE_URL = "https://provisioning.example.net/p/"
# Where customer routers fetch their zero-touch configuration (the bootstrap commands name it);
# the admin request's host when unset.
ZEROTOUCH_BASE_URL = "https://provisioning.example.net/"
# The token FreeSWITCH presents (mod_xml_curl password, vars.xml provisioner_token).
FREESWITCH_TOKEN = "change-me-to-a-long-random-string"

# --- HTTP ---------------------------------------------------------------------------------
HTTP_HOST = "127.0.0.1"
HTTP_PORT = 8470
HTTP_THREADS = 16
PROXY_HOPS = 0  # trusted reverse proxies that set X-Forwarded-*; 1 behind one load balancer
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
IMPORT_MAX_BYTES = 10 * 1024 * 1024  # the largest tenant document import / PUT .../document read
LOAD_DEMO_ON_EMPTY = False  # True loads examples/demo.yaml into an empty store at serve
AUDIT_RETENTION_DAYS = 365  # what `provisioner audit prune` keeps

# --- Phones -------------------------------------------------------------------------------
PHONE_MISS_LIMIT = 100  # misses per source (IPv6: per /64) and window before 429; 0 is off
PHONE_MISS_WINDOW_SECONDS = 60
PHONE_PAIRING_WINDOW_MINUTES = 30  # first-use window opened by pairing
PHONE_WINDOW_MAX_MISSES = 20  # a source with more misses than this gets no first use
PHONE_TIMELINE_LENGTH = 100  # requests kept per device
PHONE_TIMELINE_FLUSH_SECONDS = 0.5  # timeline events written in batches this often (0: per request)
PHONE_UPLOAD_MAX_BYTES = 1024 * 1024
# Basic credentials over plain HTTP carry the password in clear text: refused (the phone gets a
# Digest challenge, the log a warning) unless True. Over TLS, or X-Forwarded-Proto: https from
# PROXY_HOPS trusted proxies, Basic is always taken; Digest works over plain HTTP.
ALLOW_BASIC_OVER_HTTP = False
PHONE_BOOTSTRAP_TIMEZONE = "Europe/Amsterdam"
PHONE_BOOTSTRAP_LANGUAGE = "nl"
PHONE_BOOTSTRAP_NTP_SERVER = "pool.ntp.org"
PHONE_BOOTSTRAP_RESYNC_SECONDS = 300

# --- Firmware (docs/firmware.md) ------------------------------------------------------------
# manifest.json and the images; default: instance/firmware
FIRMWARE_DIR = "/srv/provisioner/firmware"
# The providers' Ed25519 public keys (`provisioner firmware keygen` prints one); several while
# rotating. Without one, no image can be added or served.
FIRMWARE_TRUSTED_KEYS = ["base64-public-key-printed-by-keygen"]
FIRMWARE_FAILED_AFTER_SECONDS = 900  # old version again this long after the download: failed

# --- The technicians' page /t/ ------------------------------------------------------------
TECHNICIAN_SESSION_HOURS = 12  # a sign-in lasts a working day
TECHNICIAN_IDLE_MINUTES = 30  # a sign-in unused this long ends (on the server)
TECHNICIAN_SIGN_IN_LIMIT = 10  # failed sign-ins per address and window before 429
TECHNICIAN_SIGN_IN_WINDOW_SECONDS = 300

# --- FreeSWITCH ---------------------------------------------------------------------------
FREESWITCH_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"  # where FreeSWITCH connects from
FREESWITCH_GATEWAY = "provider"  # sofia gateway for outside and emergency calls
FREESWITCH_COUNTRY = "NL"  # the carrier's national number format in the public context
METRICS_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"  # who may GET /metrics without the token
METRICS_TOKEN = None  # "Authorization: Bearer <token>" opens /metrics from anywhere
LOG_FORMAT = "text"  # "json": one JSON object per line, a line per phone request

# --- SNMP poller and trap receiver --------------------------------------------------------
NETWORK_POLLER_ENABLED = False  # or `provisioner serve --network`
NETWORK_POLL_CONCURRENCY = 50
NETWORK_POLL_DEADLINE = 300
NETWORK_HISTORY_LIMIT = 288  # poll records kept per device
NETWORK_TRAPS_ENABLED = False
NETWORK_TRAP_ADDRESS = "127.0.0.1"
NETWORK_TRAP_PORT = 16162  # 162 needs the privilege to bind it
NETWORK_TRAP_COMMUNITY = None  # v2c community accepted besides each device's own
NETWORK_TRAPS_KEPT = 500
# A router that fetched its configuration is polled once it reports (its done URL), or this
# long after the fetch when it never does (Cisco IOS does not); docs/zerotouch.md.
ZEROTOUCH_DONE_GRACE_SECONDS = 600

# Phones proven by their factory certificate (mutual TLS at the proxy in front, PROXY_HOPS):
# vendor -> PEM file with that vendor's CA certificates (root and intermediates); see
# docs/phones.md for where each vendor publishes its CA.
# PHONE_CERTIFICATE_AUTHORITIES = {"polycom": "/etc/provisioner/ca/poly.pem"}
# PHONE_CERTIFICATE_HEADER = "X-Client-Certificate"
