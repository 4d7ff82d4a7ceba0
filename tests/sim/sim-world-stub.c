/* Placeholder so es-sim has an object until the world lands (issue 17). */
int	es_sim_placeholder;
