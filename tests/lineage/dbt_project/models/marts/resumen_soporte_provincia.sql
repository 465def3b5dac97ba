-- Aggregate: ticket volume, resolution rate and mean resolution time per province and segment.
select
    provincia,
    segmento,
    count(*) as tickets,
    sum(case when resuelto then 1 else 0 end) as tickets_resueltos,
    round(avg(minutos_resolucion), 1) as minutos_medios_resolucion
from {{ ref('tickets_con_cliente') }}
group by provincia, segmento
