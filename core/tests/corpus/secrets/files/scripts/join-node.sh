#!/usr/bin/env bash
# Join a new worker to the edge cluster. Token printed by
#   kubeadm token create --print-join-command
# on 2024-03-11 (valid 24h, but we never set a TTL...).
set -euo pipefail

sudo kubeadm join 10.20.0.5:6443 \
  --token 05d602.8ks0y74in5ouq6qh \
  --discovery-token-ca-cert-hash sha256:5be59d8eb3b9696c75f66f5456b497c9c85eed6ad1e095941e666c48cc2ee517

# label it
kubectl --kubeconfig /etc/kubernetes/admin.conf label node "$(hostname)" node-role.kubernetes.io/worker=worker
