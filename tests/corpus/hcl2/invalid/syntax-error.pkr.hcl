# expect: Invalid HCL syntax at line 4
source "null" "one" {
  communicator = "none"
  broken = 
}
