# expect: Unknown source "source.null.oen" (did you mean `source.null.one`?)
source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.oen"]
}
