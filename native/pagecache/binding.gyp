{
  "targets": [
    {
      "target_name": "pagecache",
      "sources": ["pagecache.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
