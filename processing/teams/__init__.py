"""Teams of traders under a team lead: the administrator's side (teams, shares, members),
the lead's side (their traders' money, orders and statistics, the traffic switch) and the
lead's share fixed on each order."""
