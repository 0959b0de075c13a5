# geo body included by nginx.conf's $region geo
203.0.113.0/24 office;
