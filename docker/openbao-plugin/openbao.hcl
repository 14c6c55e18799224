# Server configuration of the OpenBao-with-flant_gitops image (docker/openbao-plugin/Dockerfile).
# The image's entry point starts `bao server -config=` this file (to which the build appends the
# `plugin` block with the executable's SHA-256), a TCP listener at BAO_LISTEN_ADDRESS, and each
# other *.hcl file in /openbao/config: mount files of your own there (TLS listener, audit
# devices, telemetry).

# The plugin directory holds only the flant_gitops executable (root-owned, 0755).
plugin_directory = "/openbao/plugins"

# Persistent storage on the /openbao/data volume (single server; OpenBao 2.7 has no "file"
# backend any more — PebbleDB is its single-node store).
storage "pebbledb" {
  path = "/openbao/data"
}

# Auto-unseal with a 32-byte key file: required by self-initialization below, and a restarted
# container unseals itself. The entry point generates the key on first start when none is
# mounted; in production mount your own (from a secrets manager) and keep it off the data volume.
seal "static" {
  current_key_id = "flant-gitops-openbao-1"
  current_key    = "file:///openbao/secrets/unseal.key"
}

# Declarative self-initialization, run once on the first start of an empty storage: the root
# token it uses is never shown and is revoked afterwards. What an operator then has: a userpass
# login `admin` (password from /openbao/secrets/admin-password, generated on first start unless
# you put one there) with the `admin` policy, and the flant_gitops mount.
initialize "auth" {
  request "enable-userpass" {
    operation = "update"
    path      = "sys/auth/userpass"
    data = {
      type        = "userpass"
      description = "operators' logins (self-initialization)"
    }
  }
}

initialize "admin" {
  request "admin-policy" {
    operation = "update"
    path      = "sys/policies/acl/admin"
    data = {
      policy = "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"patch\", \"delete\", \"list\", \"sudo\"] }"
    }
  }
  request "admin-user" {
    operation = "update"
    path      = "auth/userpass/users/admin"
    data = {
      password = {
        eval_type   = "string"
        eval_source = "file"
        path        = "/openbao/secrets/admin-password"
      }
      token_policies = ["admin"]
    }
  }
}

initialize "flant_gitops" {
  request "mount" {
    operation = "update"
    path      = "sys/mounts/flant_gitops"
    data = {
      type        = "flant_gitops"
      description = "flant-gitops: signed commits from git, run in Docker"
    }
  }
}
